namespace GwReprocess.Analysis;

/// <summary>
/// Hourly cost of owning a piece of hardware, for an owned-cluster cost table: purchase price amortised over its life, plus the
/// electricity it and its share of the facility draw (power × PUE × price per kWh). Staff, space, network and spares are not in it.
/// </summary>
/// <param name="PurchaseUsd">Purchase price of the item (e.g. one GPU card, one CPU).</param>
/// <param name="Units">Priced units the item provides (1 for a GPU; hardware threads = vCPUs for a CPU).</param>
/// <param name="Years">Amortisation period in years.</param>
/// <param name="Watts">Power draw of the item (e.g. its TDP).</param>
/// <param name="Pue">Power usage effectiveness of the facility (total power / IT power).</param>
/// <param name="UsdPerKwh">Electricity price.</param>
public sealed record OwnedHardware(double PurchaseUsd, int Units, double Years, double Watts, double Pue, double UsdPerKwh)
{
    /// <summary>Hours in a Julian year (365.25 days), the year the amortisation uses.</summary>
    public const double HoursPerYear = 365.25 * 24;

    /// <summary>Purchase price per unit per hour of life: PurchaseUsd / Units / (Years × 8766 h).</summary>
    public double CapitalPerUnitHour => PurchaseUsd / Units / (Years * HoursPerYear);

    /// <summary>Electricity per unit per hour: Watts / Units / 1000 × PUE × UsdPerKwh.</summary>
    public double EnergyPerUnitHour => Watts / Units / 1000 * Pue * UsdPerKwh;

    /// <summary>The unit price per hour a cost table carries.</summary>
    public double PerUnitHour => CapitalPerUnitHour + EnergyPerUnitHour;

    /// <summary>Checks the inputs are physical; the message names the bad one.</summary>
    public void Validate()
    {
        if (!(PurchaseUsd >= 0) || !double.IsFinite(PurchaseUsd)) throw new BadInputException($"purchase price {PurchaseUsd} must be a non-negative number");
        if (Units <= 0) throw new BadInputException($"units {Units} must be positive");
        if (!(Years > 0)) throw new BadInputException($"amortisation years {Years} must be positive");
        if (!(Watts >= 0)) throw new BadInputException($"power {Watts} W must be non-negative");
        if (!(Pue >= 1)) throw new BadInputException($"PUE {Pue} must be at least 1");
        if (!(UsdPerKwh >= 0)) throw new BadInputException($"electricity price {UsdPerKwh} per kWh must be non-negative");
    }
}
