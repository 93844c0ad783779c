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

        // Schema version 2: the band search (EnvelopeBandBank).
        "env_bpfo_prom", "env_bpfi_prom", "env_bsf_prom", "env_band_hz", "env_sk", "env_sk_band_hz",
        "env_prom_b00", "env_prom_b01", "env_prom_b02", "env_prom_b03", "env_prom_b04", "env_prom_b05", "env_prom_b06", "env_prom_b07",
        "env_prom_b08", "env_prom_b09", "env_prom_b10", "env_prom_b11", "env_prom_b12", "env_prom_b13", "env_prom_b14", "env_prom_b15",
        "env_prom_b16", "env_prom_b17", "env_prom_b18", "env_prom_b19", "env_prom_b20", "env_prom_b21", "env_prom_b22", "env_prom_b23",
        "env_prom_b24", "env_prom_b25", "env_prom_b26", "env_prom_b27", "env_prom_b28", "env_prom_b29", "env_prom_b30", "env_prom_b31",
    ];

    /// <summary>Band slots of the band search (<c>env_prom_bNN</c>): bank band NN, lowest first; unused slots read 0.</summary>
    public const int BandSlots = 32;

    /// <summary>
    /// Version of the feature list: 1 = up to <c>env_rms</c>, 2 = the band-search features appended.
    /// Names are only ever appended, so a model trained on an older version reads a prefix of the
    /// current list and still loads.
    /// </summary>
    public const int Version = 2;

    /// <summary>
    /// Version of the band-search computation behind the <c>env_prom_*</c> features (same names,
    /// different values): 1 = first release, 2 = stationary tones suppressed before demodulation. A
    /// model's line detector is calibrated on one version and refused by a gateway computing another.
    /// </summary>
    public const int BandSearchVersion = 2;

    /// <summary>Number of tail features in each schema version (index = version).</summary>
    internal static readonly int[] TailCountByVersion = [0, 17, 55];

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
