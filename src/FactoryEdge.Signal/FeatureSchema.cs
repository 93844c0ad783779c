using System.Globalization;

namespace FactoryEdge.Signal;

/// <summary>
/// The order and names of features. Fixed indices first, then one energy per band, then the
/// shaft, bearing and velocity features. Models record this list; a mismatch refuses the model.
/// </summary>
public static class FeatureSchema
{
    public const int Rms = 0;
    public const int Peak = 1;
    public const int PeakToPeak = 2;
    public const int CrestFactor = 3;
    public const int Kurtosis = 4;
    public const int Skewness = 5;
    public const int SpectralCentroidHz = 6;
    public const int DominantHz = 7;
    public const int FirstBand = 8;

    /// <summary>Names of the features after the bands, in order (new names are only ever appended).</summary>
    public static readonly string[] TailNames =
    [
        "shaft_hz", "order_0_5x", "order_1x", "order_2x", "order_3x",
        "env_bpfo", "env_bpfo_hz", "env_bpfi", "env_bpfi_hz", "env_bsf", "env_bsf_hz", "env_ftf", "env_ftf_hz",
        "env_peak_hz", "velocity_rms_mm_s", "iso_zone",
        "env_rms",
    ];

    public static string[] Names(IReadOnlyList<FrequencyBand> bands)
    {
        ArgumentNullException.ThrowIfNull(bands);
        var names = new string[FirstBand + bands.Count + TailNames.Length];
        names[Rms] = "rms";
        names[Peak] = "peak";
        names[PeakToPeak] = "peak_to_peak";
        names[CrestFactor] = "crest_factor";
        names[Kurtosis] = "kurtosis";
        names[Skewness] = "skewness";
        names[SpectralCentroidHz] = "spectral_centroid_hz";
        names[DominantHz] = "dominant_hz";
        for (var i = 0; i < bands.Count; i++)
        {
            names[FirstBand + i] = string.Create(CultureInfo.InvariantCulture, $"band_{bands[i].LowHz:0.#}_{bands[i].HighHz:0.#}_hz");
        }

        TailNames.CopyTo(names, FirstBand + bands.Count);
        return names;
    }

    /// <summary>Index of a tail feature for a given band count.</summary>
    public static int IndexOf(string name, int bandCount)
    {
        var i = Array.IndexOf(TailNames, name);
        if (i < 0)
        {
            throw new ArgumentException($"'{name}' is not a tail feature.", nameof(name));
        }

        return FirstBand + bandCount + i;
    }
}
