using System.Text;
using System.Text.RegularExpressions;

namespace GwReprocess.Tests.Architecture;

/// <summary>Which folder rooms of the library use which, with the files behind each use, and the cycles among them.</summary>
/// <remarks>
/// A room is the first namespace segment after <c>GwReprocess.</c> (so Frames/Gwf and Frames/Hdf5 are the room Frames);
/// files in the bare <c>GwReprocess</c> namespace form the room <see cref="Root"/>. A file uses a room when it names it
/// in a using directive or a qualified name (in full, or relative to <c>GwReprocess</c>, as <c>Workflow.WorkflowConfig</c>). Global usings, the bare namespace (which every nested namespace sees) and
/// protobuf namespaces imported project-wide count only where the file names one of that room's types, or every
/// room would use them.
/// </remarks>
internal sealed partial class RoomGraph
{
    public const string Root = "(root)";

    /// <summary>One file's use of another room: which of its types the file names (empty for a using directive alone).</summary>
    public sealed record Use(string File, IReadOnlyList<string> Types);

    private sealed record Source(string Path, string Room, string Code, IReadOnlySet<string> Identifiers);

    private readonly SortedDictionary<string, SortedDictionary<string, List<Use>>> _edges = new(StringComparer.Ordinal);

    public IEnumerable<string> Rooms => _edges.Keys;

    /// <summary>Files whose namespace names another room than their folder, as "path: namespace room": the graph would put them in the wrong room.</summary>
    public List<string> Misplaced { get; } = [];

    /// <summary>The rooms <paramref name="room"/> uses.</summary>
    public IEnumerable<string> UsesOf(string room) => _edges.TryGetValue(room, out var to) ? to.Keys : [];

    /// <summary>The files behind the edge <paramref name="from"/> → <paramref name="to"/>.</summary>
    public IReadOnlyList<Use> Evidence(string from, string to) => _edges[from][to];

    public void Add(string from, string to, Use use)
    {
        Room(to);
        if (from == to) return;
        var uses = Room(from);
        if (!uses.TryGetValue(to, out var list)) uses[to] = list = [];
        list.Add(use);
    }

    private SortedDictionary<string, List<Use>> Room(string room)
    {
        if (!_edges.TryGetValue(room, out var uses)) _edges[room] = uses = new(StringComparer.Ordinal);
        return uses;
    }

    /// <summary>The graph of the library under <paramref name="libraryDirectory"/> (src/GwReprocess): its .cs files outside bin/ and obj/, its .proto files and its project's global usings.</summary>
    public static RoomGraph FromDirectory(string libraryDirectory)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(libraryDirectory, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(libraryDirectory, path).Replace('\\', '/');
            if (relative.Split('/') is var parts && (parts.Contains("bin") || parts.Contains("obj"))) continue;
            if (relative.EndsWith(".cs", StringComparison.Ordinal) || relative.EndsWith(".proto", StringComparison.Ordinal) || relative.EndsWith(".csproj", StringComparison.Ordinal))
                files[relative] = File.ReadAllText(path);
        }
        return FromSources(files);
    }

    /// <summary>The graph of the given files (path relative to the library → text): .cs sources, .proto files (their generated namespaces belong to the folder's room) and a .csproj's <c>&lt;Using Include&gt;</c> items.</summary>
    public static RoomGraph FromSources(IReadOnlyDictionary<string, string> files)
    {
        // Generated protobuf code lives in obj/, so its namespace (Inference, Grpc.Health.V1) is mapped to the room of its .proto.
        var protoRooms = new Dictionary<string, string>(StringComparer.Ordinal);
        var protoTypes = new List<(string Room, string Type)>();
        foreach (var (path, text) in files.Where(f => f.Key.EndsWith(".proto", StringComparison.Ordinal)))
        {
            string room = path.Contains('/') ? path[..path.IndexOf('/')] : Root;
            string? ns = CsharpNamespace().Match(text) is { Success: true } m ? m.Groups[1].Value
                : ProtoPackage().Match(text) is { Success: true } p ? string.Join('.', p.Groups[1].Value.Split('.').Select(Pascal)) : null;
            if (ns is not null && RoomOf(ns) is null) protoRooms[ns] = room;
            foreach (Match d in ProtoDeclaration().Matches(text)) protoTypes.Add((room, d.Groups[1].Value));
        }

        var sources = new List<Source>();
        var globalImports = new HashSet<string>(StringComparer.Ordinal);
        var misplaced = new List<string>();
        foreach (var (path, text) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            if (path.EndsWith(".csproj", StringComparison.Ordinal))
            {
                foreach (Match u in ProjectUsing().Matches(text)) globalImports.Add(u.Groups[1].Value);
                continue;
            }
            if (!path.EndsWith(".cs", StringComparison.Ordinal)) continue;
            string code = CSharpCode.WithoutCommentsAndLiterals(text);
            foreach (Match g in GlobalUsing().Matches(code)) globalImports.Add(g.Groups[1].Value);
            code = GlobalUsing().Replace(code, " ");
            string folder = path.Contains('/') ? path[..path.IndexOf('/')] : Root;
            string room = NamespaceDeclaration().Match(code) is { Success: true } ns ? RoomOf(ns.Groups[1].Value) ?? folder : folder;
            var identifiers = Identifier().Matches(code).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
            if (room != folder) misplaced.Add($"{path}: namespace of room {room}");
            sources.Add(new Source(path, room, code, identifiers));
        }

        // Types per room, to say what a file uses a room for.
        var types = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var declared = sources.SelectMany(s => TypeDeclaration().Matches(s.Code).Select(t => (s.Room, Type: t.Groups["name"].Value)));
        foreach (var (room, type) in declared.Concat(protoTypes))
        {
            if (!types.TryGetValue(room, out var set)) types[room] = set = new(StringComparer.Ordinal);
            set.Add(type);
        }

        var rooms = sources.Select(s => s.Room).Concat(protoRooms.Values).ToHashSet(StringComparer.Ordinal);
        var namespaces = sources.Select(s => NamespaceDeclaration().Match(s.Code)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var graph = new RoomGraph();
        graph.Misplaced.AddRange(misplaced);
        var implicitRooms = globalImports.Select(n => RoomOf(n) ?? protoRooms.GetValueOrDefault(n)).OfType<string>().Append(Root).ToHashSet(StringComparer.Ordinal);
        foreach (var s in sources)
        {
            graph.Room(s.Room);
            string code = NamespaceDeclaration().Replace(s.Code, " ");
            var named = new SortedSet<string>(StringComparer.Ordinal);
            foreach (Match q in QualifiedName().Matches(code))
            {
                // GwReprocess.X is a room, or a type of the bare namespace (GwReprocess.BadInputException).
                string name = q.Groups[1].Value;
                if (rooms.Contains(name)) named.Add(name);
                else if (types.GetValueOrDefault(Root)?.Contains(name) == true) named.Add(Root);
            }
            // Inside namespace GwReprocess.*, `Workflow.WorkflowConfig` names GwReprocess.Workflow without saying GwReprocess: a room
            // followed by one of its types (or by a namespace within it) counts; a member access such as `Workflow.Data` does not.
            foreach (Match q in RelativeName().Matches(code))
            {
                string room = q.Groups[1].Value, next = q.Groups[2].Value;
                if (room == s.Room || room == Root || !rooms.Contains(room)) continue;
                if (types.GetValueOrDefault(room)?.Contains(next) == true || namespaces.Contains($"GwReprocess.{room}.{next}")) named.Add(room);
            }
            foreach (Match u in UsingDirective().Matches(code))
                if (protoRooms.TryGetValue(u.Groups[1].Value, out var protoRoom)) named.Add(protoRoom);
            var ownTypes = types.GetValueOrDefault(s.Room) ?? [];
            List<string> TypesFrom(string room) =>
                [.. (types.GetValueOrDefault(room) ?? []).Where(t => s.Identifiers.Contains(t) && !ownTypes.Contains(t)).Order(StringComparer.Ordinal)];
            foreach (var room in named) graph.Add(s.Room, room, new Use(s.Path, TypesFrom(room)));
            foreach (var room in implicitRooms.Where(r => !named.Contains(r)))
                if (TypesFrom(room) is { Count: > 0 } used) graph.Add(s.Room, room, new Use(s.Path, used));
        }
        return graph;
    }

    /// <summary>The room of namespace <paramref name="ns"/>, or null when it is not the library's.</summary>
    private static string? RoomOf(string ns)
    {
        if (ns.StartsWith("global::", StringComparison.Ordinal)) ns = ns["global::".Length..];
        if (ns == "GwReprocess") return Root;
        return ns.StartsWith("GwReprocess.", StringComparison.Ordinal) ? ns["GwReprocess.".Length..].Split('.')[0] : null;
    }

    private static string Pascal(string part) => part.Length == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..];

    /// <summary>Every cycle needed to show each edge that lies on one: for each such edge, the shortest way back to its start.</summary>
    /// <remarks>Each cycle is listed from its alphabetically first room, without repeating that room at the end.</remarks>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        var component = StronglyConnectedComponents();
        var cycles = new List<IReadOnlyList<string>>();
        var covered = new HashSet<(string, string)>();
        foreach (var from in Rooms)
            foreach (var to in UsesOf(from))
            {
                if (component[from] != component[to] || covered.Contains((from, to))) continue;
                var path = ShortestPath(to, from, r => component[r] == component[from]);
                var cycle = new List<string> { from };
                cycle.AddRange(path.Take(path.Count - 1));
                for (int k = 0; k < cycle.Count; k++) covered.Add((cycle[k], cycle[(k + 1) % cycle.Count]));
                int first = cycle.IndexOf(cycle.Min(StringComparer.Ordinal)!);
                cycles.Add([.. cycle.Skip(first), .. cycle.Take(first)]);
            }
        return cycles;
    }

    /// <summary>Rooms from <paramref name="from"/> to <paramref name="to"/> (both included) along the fewest edges, staying where <paramref name="allowed"/>.</summary>
    private List<string> ShortestPath(string from, string to, Func<string, bool> allowed)
    {
        var previous = new Dictionary<string, string>(StringComparer.Ordinal) { [from] = from };
        var queue = new Queue<string>([from]);
        while (queue.Count > 0 && !previous.ContainsKey(to))
        {
            string room = queue.Dequeue();
            foreach (var next in UsesOf(room))
                if (allowed(next) && previous.TryAdd(next, room)) queue.Enqueue(next);
        }
        var path = new List<string> { to };
        while (path[^1] != from) path.Add(previous[path[^1]]);
        path.Reverse();
        return path;
    }

    /// <summary>Tarjan's algorithm: each room's component number; rooms on a common cycle share one.</summary>
    private Dictionary<string, int> StronglyConnectedComponents()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var component = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string room)
        {
            index[room] = low[room] = index.Count;
            stack.Push(room);
            onStack.Add(room);
            foreach (var next in UsesOf(room))
            {
                if (!index.ContainsKey(next)) { Visit(next); low[room] = Math.Min(low[room], low[next]); }
                else if (onStack.Contains(next)) low[room] = Math.Min(low[room], index[next]);
            }
            if (low[room] != index[room]) return;
            int id = component.Count == 0 ? 0 : component.Values.Max() + 1;
            string member;
            do { member = stack.Pop(); onStack.Remove(member); component[member] = id; } while (member != room);
        }
        foreach (var room in Rooms) if (!index.ContainsKey(room)) Visit(room);
        return component;
    }

    /// <summary>A cycle as a failure message reads it: the rooms, then each edge with the files behind it.</summary>
    public string Describe(IReadOnlyList<string> cycle)
    {
        var text = new StringBuilder(string.Join(" -> ", cycle.Append(cycle[0])));
        for (int k = 0; k < cycle.Count; k++)
        {
            string from = cycle[k], to = cycle[(k + 1) % cycle.Count];
            text.Append("\n    ").Append(from).Append(" -> ").Append(to).Append(": ");
            text.AppendJoin("; ", Evidence(from, to).Select(u =>
                $"{u.File} uses {(to == Root ? "GwReprocess" : "GwReprocess." + to)}" + (u.Types.Count > 0 ? $" ({string.Join(", ", u.Types)})" : " (using directive only)")));
        }
        return text.ToString();
    }

    [GeneratedRegex(@"\bnamespace\s+([\w.]+)")]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"\bglobal\s+using\s+(?:static\s+)?(?:\w+\s*=\s*)?((?:global::)?[\w.]+)\s*;")]
    private static partial Regex GlobalUsing();

    [GeneratedRegex(@"\busing\s+(?:static\s+)?(?:\w+\s*=\s*)?(?:global::)?([\w.]+)\s*;")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"(?<![\w.])GwReprocess\s*\.\s*(\w+)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\s*\.\s*([A-Za-z_]\w*)")]
    private static partial Regex RelativeName();

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record(?:\s+(?:class|struct))?)\s+(?!(?:where|new|in|is|as|with)\b)(?<name>[A-Za-z_]\w*)|\bdelegate\s+[\w<>\[\],.?\s]+?\s(?<name>[A-Za-z_]\w*)\s*[<(]")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"[A-Za-z_]\w*")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"<Using\s+Include\s*=\s*""([\w.]+)""")]
    private static partial Regex ProjectUsing();

    [GeneratedRegex(@"option\s+csharp_namespace\s*=\s*""([\w.]+)""")]
    private static partial Regex CsharpNamespace();

    [GeneratedRegex(@"^\s*(?:message|enum|service)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex ProtoDeclaration();

    [GeneratedRegex(@"^\s*package\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex ProtoPackage();
}
