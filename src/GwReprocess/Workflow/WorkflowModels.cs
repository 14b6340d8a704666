using GwReprocess.Models;
using GwReprocess.Simulation;

namespace GwReprocess.Workflow;

/// <summary>What a workflow tells the model build: the channels its cleaners are fitted on, in model order, and how its frames are simulated.</summary>
public static class WorkflowModels
{
    /// <summary>A fit of <paramref name="workflow"/>'s detectors on <paramref name="frames"/> (a cache, frame file or simulate output directory), with the default taps, band and whitening.</summary>
    public static WienerFitRequest WienerFit(WorkflowConfig workflow, string frames) => new()
    {
        Frames = frames,
        Detectors = workflow.Detectors.Select(d => new CleanerChannels(d.Ifo, d.Strain, d.Witnesses)).ToList(),
        ChannelSource = workflow.SourcePath,
        Simulation = workflow.Data.Simulation is null ? null : WorkflowSimulation.Options(workflow),
        WitnessHighpass = workflow.Cleaning.WitnessHighpass,
    };
}
