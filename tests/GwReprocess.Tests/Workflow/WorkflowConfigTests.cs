using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

public class WorkflowConfigTests
{
    private const string Minimal = """
        [run]
        name = "demo"

        [data]
        start = 1238166018
        end = 1238169618

        [detectors.H1]
        strain = "H1:GDS-CALIB_STRAIN"
        witnesses = ["H1:PEM-CS_MAINSMON_EBAY_1_DQ", "H1:ASC-CHARD_P_INMON", "H1:LSC-DARM_IN1_DQ"]

        [detectors.L1]
        strain = "L1:GDS-CALIB_STRAIN"

        [outputs]
        uri = "runs/demo/out"
        """;

    [Fact]
    public void Barrier_and_cleaning_keys_are_read_with_defaults_for_the_local_demo()
    {
        var d = WorkflowConfig.Parse(Minimal, "demo.toml");
        Assert.Equal(GwReprocess.Jobs.BarrierMode.TimeoutThenGo, d.Barrier.Mode);
        Assert.Null(d.Barrier.Expected);
        Assert.Equal(CleaningSpec.Default, d.Cleaning);
        var w = WorkflowConfig.Parse(Minimal + "\n\n[inference]\nbarrier = \"quorum\"\nbarrier_timeout = 30\nbarrier_quorum = 0.75\nbarrier_clients = 6\n" +
            "[cleaning]\nband_low = 20\nband_high = 400\nedge = 0.25\ncausal_latency = 0.5\nmargin = 1\nmax_in_flight = 4\nretries = 2\n", "w.toml");
        Assert.Equal(new BarrierSpec(GwReprocess.Jobs.BarrierMode.Quorum, 6, GwReprocess.Time.GpsDuration.FromSeconds(30), 0.75), w.Barrier);
        Assert.Equal(new CleaningSpec(20, 400, GwReprocess.Time.GpsDuration.FromSeconds(0.25), GwReprocess.Time.GpsDuration.FromSeconds(0.5), GwReprocess.Time.GpsDuration.FromSeconds(1), 4, 2), w.Cleaning);
    }

    [Fact]
    public void The_witness_highpass_is_read_with_its_order_and_absent_by_default()
    {
        Assert.Null(WorkflowConfig.Parse(Minimal, "w.toml").Cleaning.WitnessHighpass);
        Assert.Equal(new GwReprocess.Dsp.WitnessHighpass(1.0, 4), WorkflowConfig.Parse(Minimal + "\n\n[cleaning]\nwitness_highpass = 1.0\n", "w.toml").Cleaning.WitnessHighpass);
        var w = WorkflowConfig.Parse(Minimal + "\n\n[cleaning]\nwitness_highpass = 0.75\nwitness_highpass_order = 6\n", "w.toml");
        Assert.Equal(new GwReprocess.Dsp.WitnessHighpass(0.75, 6), w.Cleaning.WitnessHighpass);
        // The Wiener fit (gwrepro models build --workflow, gwrepro run's own build) and the client job get it with the rest of [cleaning].
        var demo = WorkflowConfig.Load(Path.Combine(ShippedWorkflowsTests.WorkflowsDirectory(), "local-demo.toml"));
        Assert.Equal(new GwReprocess.Dsp.WitnessHighpass(0.5, 4), WorkflowModels.WienerFit(demo, "frames").WitnessHighpass);
        Assert.Equal(w.Cleaning.WitnessHighpass, GwReprocess.Workflow.WorkflowClientJob.Settings(w, new GwReprocess.Jobs.JobSpec("j", default, default, 0, 1), [], null!, "", null!, "", null).Cleaning.WitnessHighpass);
    }

    [Fact]
    public void Server_tls_and_token_keys_go_together_and_only_with_server_nodes()
    {
        var w = WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntls_cert = \"s.pem\"\ntls_key = \"s.key\"\ntoken_file = \"t\"\n", "w.toml");
        Assert.Equal(("s.pem", "s.key", "t"), (w.Inference.TlsCert, w.Inference.TlsKey, w.Inference.TokenFile));
        Assert.True(w.Inference.ServesTls);
        Assert.False(WorkflowConfig.Parse(Minimal, "w.toml").Inference.ServesTls);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntls_key = \"s.key\"\n", "w.toml"));
        Assert.Equal("w.toml:19: inference.tls_key: needs inference.tls_cert as well: give the server nodes' certificate and its key together", e.Message);
        e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\naddresses = [\"h:1\"]\ntls_cert = \"s.pem\"\ntls_key = \"s.key\"\n", "w.toml"));
        Assert.Equal("w.toml:20: inference.tls_cert: applies to server nodes the workflow starts, not to external inference.addresses (give their CA with tls_ca)", e.Message);
        e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntoken_file = \"\"\n", "w.toml"));
        Assert.Equal("w.toml:19: inference.token_file: must name a file holding the token", e.Message);
    }

    [Fact]
    public void Server_nodes_transport_nice_is_read_and_checked()
    {
        Assert.Equal(0, WorkflowConfig.Parse(Minimal, "w.toml").Inference.TransportNice);
        Assert.Equal(10, WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntransport_nice = 10\n", "w.toml").Inference.TransportNice);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntransport_nice = 20\n", "w.toml"));
        Assert.Equal("w.toml:19: inference.transport_nice: 20 must be 0 (off) to 19", e.Message);
        e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\naddresses = [\"h:1\"]\ntransport_nice = 5\n", "w.toml"));
        Assert.Equal("w.toml:20: inference.transport_nice: applies to server nodes the workflow starts, not to external inference.addresses", e.Message);
    }

    [Fact]
    public void Server_restarts_default_to_3_and_are_checked()
    {
        Assert.Equal(3, WorkflowConfig.Parse(Minimal, "w.toml").Inference.ServerRestarts);
        Assert.Equal(0, WorkflowConfig.Parse(Minimal + "\n\n[inference]\nserver_restarts = 0\n", "w.toml").Inference.ServerRestarts);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\nserver_restarts = -1\n", "w.toml"));
        Assert.Equal("w.toml:19: inference.server_restarts: -1 must be 0 (never restart) to 100", e.Message);
        e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\naddresses = [\"h:1\"]\nserver_restarts = 2\n", "w.toml"));
        Assert.Equal("w.toml:20: inference.server_restarts: applies to server nodes the workflow starts, not to external inference.addresses", e.Message);
    }

    [Fact]
    public void The_clients_CA_bundle_is_read_from_inference_tls_ca()
    {
        Assert.Null(WorkflowConfig.Parse(Minimal, "demo.toml").Inference.TlsCa);
        Assert.Equal("certs/ca.pem", WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntls_ca = \"certs/ca.pem\"\n", "w.toml").Inference.TlsCa);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n[inference]\ntls_ca = \"\"\n", "demo.toml"));
        Assert.Equal("demo.toml:19: inference.tls_ca: must name a PEM file", e.Message);
    }

    [Fact]
    public void Defaults_and_order_are_kept()
    {
        var w = WorkflowConfig.Parse(Minimal, "demo.toml");
        Assert.Equal(DataSourceKind.Simulated, w.Data.Kind);
        Assert.Equal("H1L1", w.IfoTag);
        // Channel order is the order written, never sorted.
        Assert.Equal(["H1:PEM-CS_MAINSMON_EBAY_1_DQ", "H1:ASC-CHARD_P_INMON", "H1:LSC-DARM_IN1_DQ"], w.Detectors[0].Witnesses.Select(c => c.Value).ToArray());
        Assert.Equal(4096, w.Jobs.Length.TotalSeconds);
        Assert.Equal(8, w.Jobs.Padding.TotalSeconds);
        Assert.Equal("local", w.Site.Name);
        Assert.Equal(HTCondorVersion.LongTermSupport, w.Condor.MinimumVersion);
        Assert.Equal(21, w.Data.Simulation!.Witnesses);
    }

    [Theory]
    [InlineData("[jobs]\nlenght = 4096\n", "demo.toml:19: unknown key 'jobs.lenght'")]
    [InlineData("[jobs]\nlength = \"four\"\n", "demo.toml:19: jobs.length: 'four' is not a non-negative number of seconds")]
    [InlineData("[inference]\nrate = 3\n", "demo.toml:19: inference.rate: 3 must divide the 4096 Hz processing rate")]
    [InlineData("[site]\nprofile = \"ldg\"\n", "demo.toml:18: site: profile 'ldg' requires site.accounting_group")]
    [InlineData("[site]\nprofile = \"ldg\"\naccounting_group = \"cbc.bbh\"\n", "demo.toml:20: site.accounting_group: 'cbc.bbh' is not an IGWN accounting tag")]
    [InlineData("[site]\nprofile = \"osg\"\n", "demo.toml:19: site.profile: 'osg' is not one of local, ldg, igwn-osg, hepcloud")]
    [InlineData("[condor]\nmin_version = \"lts\"\n", "demo.toml:19: condor.min_version: 'lts' is not a version like 24.0")]
    [InlineData("[jobs]\nlength = 100\nminimum = 300\n", "demo.toml:20: jobs.minimum: 300 s is longer than jobs.length 100 s")]
    [InlineData("[data.simulate]\nseed = 1.5\n", "demo.toml:19: data.simulate.seed: expected an integer")]
    [InlineData("[inference]\nbarrier = \"most\"\n", "demo.toml:19: inference.barrier: 'most' is not one of all, quorum, timeout")]
    [InlineData("[inference]\nbarrier = \"quorum\"\nbarrier_quorum = 1.5\n", "demo.toml:20: inference.barrier_quorum: 1.5 must lie in (0, 1]")]
    [InlineData("[inference]\nbarrier_quorum = 0.5\n", "demo.toml:19: inference.barrier_quorum: only applies with barrier = \"quorum\"")]
    [InlineData("[inference]\nbarrier_timeout = 0\n", "demo.toml:19: inference.barrier_timeout: must be a positive number of seconds")]
    [InlineData("[cleaning]\nband_low = 600\n", "demo.toml:19: cleaning.band_low: band 600–500 Hz: cleaning.band_high must be above cleaning.band_low")]
    [InlineData("[cleaning]\nband_high = 3000\n", "demo.toml:19: cleaning.band_high: 3000 Hz must be below the 2048 Hz Nyquist")]
    [InlineData("[cleaning]\nmax_in_flight = 0\n", "demo.toml:19: cleaning.max_in_flight: must be positive")]
    [InlineData("[cleaning]\nwitness_highpass = 0\n", "demo.toml:19: cleaning.witness_highpass: 0 Hz must be a positive frequency below cleaning.band_low (15 Hz)")]
    [InlineData("[cleaning]\nwitness_highpass = 20\n", "demo.toml:19: cleaning.witness_highpass: 20 Hz must be a positive frequency below cleaning.band_low (15 Hz)")]
    [InlineData("[cleaning]\nwitness_highpass = 1\nwitness_highpass_order = 9\n", "demo.toml:20: cleaning.witness_highpass_order: 9 must be 1..8")]
    [InlineData("[cleaning]\nwitness_highpass_order = 4\n", "demo.toml:19: cleaning.witness_highpass_order: needs cleaning.witness_highpass (the cutoff in Hz)")]
    public void Errors_name_key_and_line(string extra, string expected)
    {
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Minimal + "\n\n" + extra, "demo.toml"));
        Assert.StartsWith(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Channel_belonging_and_duplicates_are_checked()
    {
        var bad = Minimal.Replace("\"H1:ASC-CHARD_P_INMON\"", "\"L1:ASC-CHARD_P_INMON\"");
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(bad, "w.toml"));
        Assert.Equal("w.toml:10: detectors.H1.witnesses: channel 'L1:ASC-CHARD_P_INMON' does not belong to H1", e.Message);
        var dup = Minimal.Replace("\"H1:LSC-DARM_IN1_DQ\"", "\"H1:ASC-CHARD_P_INMON\"");
        Assert.Contains("listed twice", Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(dup, "w.toml")).Message);
    }

    [Fact]
    public void Toml_syntax_errors_name_the_line()
    {
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse("[run]\nname = \"x\"\n[data\nstart = 1\n", "w.toml"));
        Assert.StartsWith("w.toml:3: TOML syntax error", e.Message);
    }

    [Fact]
    public void Site_profiles_write_their_lines()
    {
        var osg = WorkflowConfig.Parse(Minimal + """

            [site]
            profile = "igwn-osg"
            accounting_group = "igwn.prod.o4.detchar.deepclean"
            apptainer_image = "/cvmfs/singularity.opensciencegrid.org/ml4gw/gwrepro:1.0"
            desired_sites = ["LIGO-CIT", "LIGO-LA"]
            """, "osg.toml").Site;
        Assert.Equal("YES", osg.ShouldTransferFiles);
        Assert.Contains("use_oauth_services = scitokens", osg.JobLines);
        Assert.Contains("MY.SingularityImage = \"/cvmfs/singularity.opensciencegrid.org/ml4gw/gwrepro:1.0\"", osg.JobLines);
        Assert.Contains("MY.DESIRED_Sites = \"LIGO-CIT,LIGO-LA\"", osg.JobLines);
        Assert.Equal(["(HAS_CVMFS_IGWN_PRIVATE_DATA =?= True)", "(HAS_SINGULARITY =?= True)"], osg.Requirements.ToArray());

        var hep = WorkflowConfig.Parse(Minimal + """

            [site]
            profile = "hepcloud"
            gs_access_key_id_file = "/home/u/.gs/id"
            gs_secret_access_key_file = "/home/u/.gs/secret"

            [site.attributes]
            DESIRED_Provider = "\"GCE\""
            GCE_GPU_Type = "\"nvidia-tesla-t4\""
            """, "hep.toml").Site;
        Assert.Equal(["gs_access_key_id_file = /home/u/.gs/id", "gs_secret_access_key_file = /home/u/.gs/secret",
            "MY.DESIRED_Provider = \"GCE\"", "MY.GCE_GPU_Type = \"nvidia-tesla-t4\""], hep.JobLines.ToArray());
    }

    [Fact]
    public void Several_servers_become_service_nodes_and_old_versions_are_refused()
    {
        var text = Minimal.Replace("[outputs]", "[inference]\nservers = 3\nclients_per_server = 25\n\n[outputs]");
        var w = WorkflowConfig.Parse(text, "s.toml");
        var plan = JobPlanner.Plan(w);
        var dag = DagWriter.Render(plan, "/x/gwrepro")[0].Value;
        Assert.Contains("SERVICE server_0 server.sub\nSERVICE server_1 server.sub\nSERVICE server_2 server.sub\n", dag);
        Assert.Contains("MAXJOBS clients 75\n", dag);
        Assert.DoesNotContain("PROVISIONER", dag);
        Assert.Empty(DagChecker.Check(dag, "s.dag", out _));

        var old = WorkflowConfig.Parse(text + "\n[condor]\nmin_version = \"9.0\"\n", "old.toml");
        var e = Assert.Throws<BadInputException>(() => DagWriter.Render(JobPlanner.Plan(old), "/x/gwrepro"));
        Assert.Contains("predates SERVICE nodes (9.2)", e.Message);
    }

    [Fact]
    public void External_servers_get_no_server_nodes()
    {
        var text = Minimal.Replace("[outputs]", "[inference]\naddresses = [\"10.0.0.5:8001\", \"10.0.0.6:8001\"]\n\n[outputs]");
        var plan = JobPlanner.Plan(WorkflowConfig.Parse(text, "x.toml"));
        var files = DagWriter.Render(plan, "/x/gwrepro");
        Assert.DoesNotContain(files, f => f.Key == "server.sub");
        Assert.DoesNotContain("PROVISIONER", files[0].Value);
        Assert.Contains("server=\"10.0.0.5:8001\"", files[0].Value);
    }

    [Fact]
    public void A_workflow_is_strain_only_when_no_detector_lists_witnesses_and_then_simulates_none_when_asked()
    {
        // Minimal lists H1's witnesses and not L1's: not strain-only (the client refuses the mix with one line).
        Assert.False(WorkflowConfig.Parse(Minimal, "w.toml").StrainOnly);
        const string strainOnly = """
            [run]
            name = "strain"
            [data]
            start = 1000000000
            end = 1000000064
            [data.simulate]
            witnesses = 0
            [detectors.H1]
            strain = "H1:GDS-CALIB_STRAIN"
            [detectors.L1]
            strain = "L1:GDS-CALIB_STRAIN"
            [outputs]
            uri = "out"
            """;
        var w = WorkflowConfig.Parse(strainOnly, "strain.toml");
        Assert.True(w.StrainOnly);
        var sim = WorkflowSimulation.Options(w);
        sim.Validate();
        Assert.Equal(0, sim.Witnesses);
        Assert.Empty(sim.WitnessChannels("H1"));
    }
}
