namespace FactoryEdge.OpcUa.Protocol;

public sealed partial class PublishResponse
{
    /// <summary>Order in which the channel received this response among the channel's publish responses (1, 2, …).</summary>
    internal long Arrival { get; set; }
}
