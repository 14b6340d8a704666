namespace GwReprocess.Time;

/// <summary>How several segment lists combine into one.</summary>
public enum SegmentOperation
{
    /// <summary>Time in every list.</summary>
    Intersect,
    /// <summary>Time in any list.</summary>
    Union,
    /// <summary>Time in the first list and in none of the others.</summary>
    Subtract,
}

/// <summary>Folds segment lists with a <see cref="SegmentOperation"/>.</summary>
public static class SegmentCombination
{
    /// <summary>Combines <paramref name="lists"/> left to right; the result is coalesced.</summary>
    public static SegmentList Combine(SegmentOperation operation, IReadOnlyList<SegmentList> lists)
    {
        if (lists.Count == 0) throw new ArgumentException("no segment lists to combine", nameof(lists));
        var acc = lists[0].Coalesce();
        for (int i = 1; i < lists.Count; i++)
        {
            acc = operation switch
            {
                SegmentOperation.Intersect => acc.Intersect(lists[i]),
                SegmentOperation.Union => acc.Union(lists[i]),
                SegmentOperation.Subtract => acc.Subtract(lists[i]),
                _ => throw new ArgumentOutOfRangeException(nameof(operation)),
            };
        }
        return acc;
    }
}
