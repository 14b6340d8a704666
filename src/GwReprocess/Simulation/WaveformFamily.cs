namespace GwReprocess.Simulation;

/// <summary>The waveform family of the injections (<c>[data.simulate] waveform</c>, <c>gwrepro simulate --waveform</c>).</summary>
public enum WaveformFamily
{
    /// <summary><c>taylorf2-0pn</c>: leading-order inspiral to the Schwarzschild ISCO (<see cref="TaylorF2"/>); the default.</summary>
    TaylorF2ZeroPn,

    /// <summary><c>phenomb</c>: IMRPhenomB inspiral, merger and ringdown, non-spinning (<see cref="Simulation.PhenomB"/>).</summary>
    PhenomB,
}
