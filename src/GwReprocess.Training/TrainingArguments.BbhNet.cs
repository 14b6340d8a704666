using GwReprocess;
using GwReprocess.Models;
using GwReprocess.Training;
using GwReprocess.Workflow;

/// <summary>gwrepro-train's options for the bbhnet verb.</summary>
internal sealed partial class TrainingArguments
{
    /// <summary>--architecture's layer plan, the training default without it.</summary>
    public BbhNetArchitecture Architecture() => Get("architecture") is { } name
        ? BbhNetArchitecture.Find(name) ?? throw new BadInputException($"--architecture '{name}' is not one of {string.Join(", ", BbhNetArchitecture.All.Select(a => a.Name))}")
        : BbhNetTrainingOptions.DefaultArchitecture;

    public BbhNetTrainingRequest BbhNetRequest()
    {
        string workflowPath = Required("workflow");
        var workflow = WorkflowConfig.Load(workflowPath);
        string from = Get("ensemble-from") ?? workflow.Inference.Ensemble;
        if (string.IsNullOrEmpty(from)) throw new BadInputException($"{workflowPath}: no [inference] ensemble; name the one to reproduce with --ensemble-from");
        double snrMin = Number("snr-min", 6), snrMax = Number("snr-max", 20);
        if (!(snrMax > snrMin)) throw new BadInputException($"--snr-max {snrMax} is not above --snr-min {snrMin}");
        double dropout = Get("dropout") is null ? 0.1 : double.TryParse(Get("dropout"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double p) && p is >= 0 and < 1
            ? p : throw new BadInputException($"--dropout '{Get("dropout")}' is not in [0, 1)");
        var family = workflow.Data.Simulation?.Waveform ?? GwReprocess.Simulation.WaveformFamily.TaylorF2ZeroPn;
        if (Get("waveform") is { } name && !GwReprocess.Simulation.Waveforms.TryParse(name, out family))
            throw new BadInputException($"--waveform '{name}' is not one of {string.Join(", ", GwReprocess.Simulation.Waveforms.Names)}");
        var architecture = Architecture();
        return new BbhNetTrainingRequest
        {
            Detectors = workflow.Detectors.Select(d => new CleanerChannels(d.Ifo, d.Strain, d.Witnesses)).ToList(),
            Fit = Required("fit"),
            Start = Time("start"),
            End = Time("end"),
            ValidationSeconds = Number("validation", 256),
            Repository = Required("out"),
            Version = Integer("version", 1),
            Batch = Integer("batch", workflow.Inference.Batch),
            InferenceRate = workflow.Inference.Rate,
            EnsembleFrom = from,
            Ensemble = Get("ensemble") ?? $"{from}-bbhnet",
            ReportDirectory = Get("report") ?? "training-report",
            WorkflowName = workflow.Name,
            Options = new BbhNetTrainingOptions
            {
                Architecture = architecture,
                Epochs = Integer("epochs", 30),
                EpochWindows = Integer("epoch-windows", 16384),
                BatchSize = Integer("batch-size", 64),
                StrideSeconds = Number("stride", 0.5),
                MinSnr = snrMin,
                MaxSnr = snrMax,
                TrainInjections = Integer("injections", 2048),
                ValidationInjections = Integer("validation-injections", 512),
                EvaluationSources = Integer("evaluation-sources", 256),
                LearningRate = Number("lr", 1e-3),
                Dropout = dropout,
                Population = new GwReprocess.Simulation.InjectionSettings { Waveform = family },
                Seed = Integer("seed", 1),
                Threads = Integer("threads", Environment.ProcessorCount),
            },
        };
    }
}
