using GwReprocess.Simulation;

namespace GwReprocess.Workflow;

/// <summary>What a workflow asks of the simulator: the workflow is read here, so the simulator need not know workflows.</summary>
public static class WorkflowSimulation
{
    /// <summary>
    /// The simulation a workflow with <c>[data] source = "simulated"</c> asks for: its span, detectors, <c>[data.simulate]</c>
    /// settings, and the strain and witness names the workflow lists (in its order; every detector must list the same names).
    /// </summary>
    public static SimulationOptions Options(WorkflowConfig workflow)
    {
        var sim = workflow.Data.Simulation ?? throw new BadInputException($"{workflow.SourcePath}: data.source is not 'simulated'");
        var span = workflow.Data.Span;
        if (!span.Start.IsWholeSecond || !span.End.IsWholeSecond)
            throw new BadInputException($"{workflow.SourcePath}: data.start and data.end must be whole GPS seconds for simulated data");
        if (!sim.FrameLength.TotalSeconds.Equals(Math.Floor(sim.FrameLength.TotalSeconds)))
            throw new BadInputException($"{workflow.SourcePath}: data.simulate.frame_length must be whole seconds");
        var first = workflow.Detectors[0];
        var names = first.Witnesses.Select(w => w.Name).ToList();
        foreach (var d in workflow.Detectors)
        {
            if (d.Strain.Name != first.Strain.Name)
                throw new BadInputException($"{workflow.SourcePath}: detectors.{d.Ifo}.strain '{d.Strain}' differs from {first.Strain} after the prefix; the simulator names strain alike in every detector");
            if (!d.Witnesses.Select(w => w.Name).SequenceEqual(names))
                throw new BadInputException($"{workflow.SourcePath}: detectors.{d.Ifo}.witnesses differ from detectors.{first.Ifo}.witnesses after the prefix; the simulator writes the same witnesses in every detector");
        }
        return new SimulationOptions
        {
            Start = span.Start,
            Duration = (long)span.Duration.TotalSeconds,
            Ifos = workflow.Detectors.Select(d => d.Ifo).ToList(),
            Seed = sim.Seed,
            FrameLength = (long)sim.FrameLength.TotalSeconds,
            StrainChannel = first.Strain.Name,
            Witnesses = names.Count > 0 ? names.Count : sim.Witnesses,
            WitnessNames = names.Count > 0 ? names : SimulationOptions.DefaultWitnessNames,
            Injections = new InjectionSettings { Rate = sim.InjectionRate, Waveform = sim.Waveform },
        };
    }
}
