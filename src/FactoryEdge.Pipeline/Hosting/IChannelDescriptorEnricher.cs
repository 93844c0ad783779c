using FactoryEdge.Core;

namespace FactoryEdge.Pipeline.Hosting;

/// <summary>
/// Adds what the site knows about a machine (bearing, nominal speed, ISO group and support) to the
/// channels a source declares: a Modbus register or an OPC UA node carries samples, not the bearing
/// that produced them. Applied by <see cref="PipelineHostedService"/> before the pipeline starts.
/// </summary>
public interface IChannelDescriptorEnricher
{
    ChannelDescriptor Enrich(ChannelDescriptor channel);
}
