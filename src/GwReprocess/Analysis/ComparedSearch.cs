using System.Text.Json.Serialization;

namespace GwReprocess.Analysis;

/// <summary>One search of a comparison: where its scores came from, its scored span, and its sensitivity at its own threshold over the common injections.</summary>
/// <param name="Label">Column name in the comparison (the run's name, or the label given after <c>=</c>).</param>
/// <param name="Outputs">Where its <c>scores/*.h5</c> were read (the outputs URI).</param>
/// <param name="Channel">Score channel.</param>
/// <param name="SpanStart">Scored span start: the first window's start (GPS s).</param>
/// <param name="SpanEnd">Scored span end: the last window's end (GPS s).</param>
/// <param name="Sensitivity">Threshold, false-alarm rate, efficiency and ROC over the injections every compared search scored.</param>
/// <param name="Search">The search's scores and injections (not in the JSON: the scores are arrays).</param>
public sealed record ComparedSearch(string Label, string Outputs, string Channel, double SpanStart, double SpanEnd, SearchSensitivity Sensitivity,
    [property: JsonIgnore] InjectionRecovery Search);
