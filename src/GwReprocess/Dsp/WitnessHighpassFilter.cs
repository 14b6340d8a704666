namespace GwReprocess.Dsp;

/// <summary>One witness stream through a <see cref="WitnessHighpass"/>: chunks filtered one after another give the same samples as the span filtered in one piece.</summary>
public sealed class WitnessHighpassFilter
{
    private readonly SecondOrderSections _sos;
    private readonly double[] _zi;
    private readonly double[] _state;
    private bool _started;

    internal WitnessHighpassFilter(SecondOrderSections sos)
    {
        _sos = sos;
        _zi = sos.StepInitialState();
        _state = new double[_zi.Length];
    }

    /// <summary>Filters the next chunk; <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public void Process(ReadOnlySpan<double> x, Span<double> y)
    {
        if (x.IsEmpty) return;
        if (!_started)
        {
            // Steady state of a constant first sample (sosfilt_zi · x[0]): the witness's offset starts no transient.
            for (int i = 0; i < _zi.Length; i++) _state[i] = _zi[i] * x[0];
            _started = true;
        }
        SosFilter.Filter(_sos, x, y, _state);
    }
}
