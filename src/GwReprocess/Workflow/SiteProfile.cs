using System.Text.RegularExpressions;

namespace GwReprocess.Workflow;

/// <summary>The submit-file lines a site needs: accounting, credentials, containers, routing.</summary>
/// <remarks>Profiles: <c>local</c> (a personal or departmental pool), <c>ldg</c> (LIGO Data Grid clusters with a
/// shared filesystem), <c>igwn-osg</c> (the IGWN pool on the OSG: no shared filesystem, SciTokens, OSDF frames,
/// Apptainer), <c>hepcloud</c> (HTCondor in front of Google Cloud: gs:// buckets and user routing attributes).</remarks>
public sealed partial record SiteProfile(string Name, string ShouldTransferFiles, IReadOnlyList<string> JobLines, IReadOnlyList<string> Requirements)
{
    public static readonly string[] Names = ["local", "ldg", "igwn-osg", "hepcloud"];

    /// <summary>Reads the [site] table; errors name the key and line.</summary>
    public static SiteProfile Read(ConfigTable t)
    {
        string name = t.String("site.profile", "local");
        if (Array.IndexOf(Names, name) < 0) throw t.Error("site.profile", $"'{name}' is not one of {string.Join(", ", Names)}");

        var lines = new List<string>();
        var requirements = new List<string>();
        string? group = t.OptionalString("site.accounting_group");
        string? user = t.OptionalString("site.accounting_group_user");
        if (group is not null)
        {
            if (!AccountingTag().IsMatch(group))
                throw t.Error("site.accounting_group", $"'{group}' is not an IGWN accounting tag (igwn.<dev|prod|sim>.<run>.<group>.<pipeline> or ligo.<dev|prod|sim>.<run>.<group>.<subgroup>.<pipeline>)");
            lines.Add($"accounting_group = {group}");
        }
        if (user is not null)
        {
            if (!AccountingUser().IsMatch(user)) throw t.Error("site.accounting_group_user", $"'{user}' is not of the form first.last");
            lines.Add($"accounting_group_user = {user}");
        }
        if (name is "ldg" or "igwn-osg" && group is null)
            throw t.Error("site", $"profile '{name}' requires site.accounting_group: IGWN access points reject jobs without one");

        string transfer = "IF_NEEDED";
        switch (name)
        {
            case "ldg":
                if (t.Boolean("site.require_frames", true)) requirements.Add("(HAS_LIGO_FRAMES =?= True)");
                break;
            case "igwn-osg":
                transfer = "YES";
                string issuer = t.String("site.token_issuer", "scitokens");
                if (issuer is not ("scitokens" or "igwn")) throw t.Error("site.token_issuer", "must be 'scitokens' (access-point issuer) or 'igwn' (vault issuer)");
                lines.Add($"use_oauth_services = {issuer}");
                string scopes = t.String("site.token_scopes", "read:/ligo read:/virgo");
                lines.Add($"{issuer}_oauth_permissions = {scopes}");
                lines.Add($"environment = \"BEARER_TOKEN_FILE=$$(CondorScratchDir)/.condor_creds/{issuer}.use\"");
                requirements.Add("(HAS_CVMFS_IGWN_PRIVATE_DATA =?= True)");
                if (t.OptionalString("site.apptainer_image") is string image)
                {
                    lines.Add($"MY.SingularityImage = \"{image}\"");
                    requirements.Add("(HAS_SINGULARITY =?= True)");
                }
                break;
            case "hepcloud":
                transfer = "YES";
                if (t.OptionalString("site.gs_access_key_id_file") is string idFile) lines.Add($"gs_access_key_id_file = {idFile}");
                if (t.OptionalString("site.gs_secret_access_key_file") is string secretFile) lines.Add($"gs_secret_access_key_file = {secretFile}");
                break;
        }
        var desired = t.OptionalStringList("site.desired_sites");
        if (desired is { Count: > 0 }) lines.Add($"MY.DESIRED_Sites = \"{string.Join(',', desired)}\"");
        // Site-supplied job attributes, e.g. HEPCloud routing: [site.attributes] DESIRED_Provider = "\"GCE\"".
        foreach (var (key, value) in t.StringsUnder("site.attributes"))
        {
            if (!NodeNames.IsValidToken(key)) throw t.Error($"site.attributes.{key}", "attribute names may only contain letters, digits, '_' and '-'");
            lines.Add($"MY.{key} = {value}");
        }
        return new SiteProfile(name, transfer, lines, requirements);
    }

    [GeneratedRegex(@"^(igwn\.(dev|prod|sim)\.[a-z0-9]+\.[a-z0-9_-]+(\.[a-z0-9_-]+)+|ligo\.(dev|prod|sim)\.[a-z0-9]+\.[a-z0-9_-]+\.[a-z0-9_-]+\.[a-z0-9_-]+)$")]
    private static partial Regex AccountingTag();

    [GeneratedRegex(@"^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_.-]*$")]
    private static partial Regex AccountingUser();
}
