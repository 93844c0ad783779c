using System.Globalization;

namespace FactoryEdge.OpcUa.Encoding;

/// <summary>
/// An IndexRange (OPC 10000-4 §7.27): <c>5</c>, <c>2:9</c>, or one such range per dimension separated
/// by commas (<c>0:1,4:7</c>). Parsed to check configuration before it goes to the server; applied to
/// one-dimensional arrays for servers' and tests' use.
/// </summary>
public sealed class NumericRange
{
    private NumericRange(IReadOnlyList<(int Low, int High)> dimensions, string text)
    {
        Dimensions = dimensions;
        Text = text;
    }

    public IReadOnlyList<(int Low, int High)> Dimensions { get; }

    public string Text { get; }

    public override string ToString() => Text;

    public static bool TryParse(string? text, out NumericRange? range, out string? error)
    {
        range = null;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty index range";
            return false;
        }

        var parts = text.Split(',');
        var dims = new List<(int, int)>(parts.Length);
        foreach (var part in parts)
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var single))
                {
                    error = $"'{part}' is not an index (0..2147483647)";
                    return false;
                }

                dims.Add((single, single));
                continue;
            }

            if (!int.TryParse(part.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var low)
                || !int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var high))
            {
                error = $"'{part}' is not LOW:HIGH with two indexes";
                return false;
            }

            if (high <= low)
            {
                error = $"'{part}': the upper bound must be greater than the lower bound";
                return false;
            }

            dims.Add((low, high));
        }

        range = new NumericRange(dims, text);
        return true;
    }

    public static NumericRange Parse(string text) =>
        TryParse(text, out var range, out var error) ? range! : throw new FormatException($"Index range '{text}' is invalid: {error}.");

    /// <summary>Applies a one-dimensional range to an array (BadIndexRangeNoData when it starts past the end).</summary>
    public Array Apply(Array array, out uint statusCode)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (Dimensions.Count != 1)
        {
            statusCode = StatusCodes.BadIndexRangeInvalid;
            return Array.CreateInstance(array.GetType().GetElementType()!, 0);
        }

        var (low, high) = Dimensions[0];
        if (low >= array.Length)
        {
            statusCode = StatusCodes.BadIndexRangeNoData;
            return Array.CreateInstance(array.GetType().GetElementType()!, 0);
        }

        var end = Math.Min(high, array.Length - 1);
        var result = Array.CreateInstance(array.GetType().GetElementType()!, end - low + 1);
        Array.Copy(array, low, result, 0, result.Length);
        statusCode = StatusCodes.Good;
        return result;
    }
}
