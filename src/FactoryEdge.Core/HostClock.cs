using System.Runtime.InteropServices;

namespace FactoryEdge.Core;

/// <summary>
/// Whether the host's clock is synchronised (NTP/PTP), for sources that stamp samples at receipt
/// (Modbus carries no timestamps): their blocks get <see cref="ClockQuality.Unsynchronized"/> when it
/// is not, or when it cannot be told. On Linux this asks the kernel (<c>adjtimex</c>: the
/// STA_UNSYNC status bit, which NTP daemons clear while they discipline the clock). The answer is
/// cached for a minute.
/// </summary>
public static partial class HostClock
{
    private const int StaUnsync = 0x0040;
    private static long _checkedAtTicks = long.MinValue;
    private static volatile bool _synchronized;

    /// <summary>The clock quality to stamp at-receipt timestamps with.</summary>
    public static ClockQuality ReceiptClockQuality(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _checkedAtTicks);
        if (last == long.MinValue || time.GetElapsedTime(last, now) > TimeSpan.FromMinutes(1))
        {
            _synchronized = QuerySynchronized();
            Interlocked.Exchange(ref _checkedAtTicks, now);
        }

        return _synchronized ? ClockQuality.Synchronized : ClockQuality.Unsynchronized;
    }

    /// <summary>Asks the operating system now. False where it cannot be told.</summary>
    public static bool QuerySynchronized()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // struct timex is ~208 bytes on 64-bit Linux; modes = 0 reads without changing anything.
            Span<byte> timex = stackalloc byte[512];
            timex.Clear();
            var state = AdjTimex(ref MemoryMarshal.GetReference(timex));
            if (state < 0)
            {
                return false;
            }

            // TIME_ERROR (5) means unsynchronised; so does STA_UNSYNC in the status field. LP64 layout:
            // int modes (+4 padding), long offset, freq, maxerror, esterror, then int status at byte 40.
            var status = MemoryMarshal.Read<int>(timex[40..]);
            return state != 5 && (status & StaUnsync) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "adjtimex")]
    private static partial int AdjTimex(ref byte timex);
}
