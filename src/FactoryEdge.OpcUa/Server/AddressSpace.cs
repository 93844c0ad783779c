using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Server;

/// <summary>A reference from one node to another (stored on both ends; <see cref="IsForward"/> says which end this is).</summary>
public readonly record struct UaReference(NodeId ReferenceTypeId, bool IsForward, NodeId Target);

/// <summary>A node of the server's address space: object, variable or folder (OPC 10000-3 §5).</summary>
public class UaNode
{
    private readonly List<UaReference> _references = [];

    internal UaNode(NodeId nodeId, NodeClass nodeClass, QualifiedName browseName, string displayName, NodeId typeDefinition)
    {
        NodeId = nodeId;
        NodeClass = nodeClass;
        BrowseName = browseName;
        DisplayName = new LocalizedText(null, displayName);
        TypeDefinition = typeDefinition;
    }

    public NodeId NodeId { get; }

    public NodeClass NodeClass { get; }

    public QualifiedName BrowseName { get; }

    public LocalizedText DisplayName { get; }

    public LocalizedText Description { get; init; }

    /// <summary>The type definition (FolderType, BaseObjectType, BaseDataVariableType, PropertyType, …).</summary>
    public NodeId TypeDefinition { get; }

    internal IReadOnlyList<UaReference> References => _references;

    internal void AddReference(UaReference reference) => _references.Add(reference);
}

/// <summary>
/// A variable node. Its value is replaced atomically by <see cref="SetValue"/>;
/// subscribers (monitored items) are told at once (report-by-exception, OPC 10000-4 §5.12.1.2).
/// </summary>
public sealed class UaVariable : UaNode
{
    private readonly Lock _gate = new();
    private DataValue _value;
    private Action<UaVariable, DataValue>[] _listeners = [];

    internal UaVariable(NodeId nodeId, QualifiedName browseName, string displayName, NodeId typeDefinition, NodeId dataType, int valueRank, Variant initial, DateTime now)
        : base(nodeId, NodeClass.Variable, browseName, displayName, typeDefinition)
    {
        DataType = dataType;
        ValueRank = valueRank;
        _value = new DataValue { Value = initial, SourceTimestamp = now, ServerTimestamp = now };
    }

    public NodeId DataType { get; }

    /// <summary>-1 scalar, 1 one-dimensional array.</summary>
    public int ValueRank { get; }

    /// <summary>Length of a fixed-size array (0 = any), reported in ArrayDimensions.</summary>
    public uint ArrayLength { get; init; }

    /// <summary>Fastest rate at which the value changes, in ms (0 = as it changes).</summary>
    public double MinimumSamplingInterval { get; init; }

    /// <summary>Current value, status and timestamps.</summary>
    public DataValue Value
    {
        get
        {
            lock (_gate)
            {
                return _value;
            }
        }
    }

    /// <summary>Sets the value with its source timestamp (and server timestamp, default the same); monitored items see the change.</summary>
    public void SetValue(Variant value, DateTime sourceTimestamp, DateTime? serverTimestamp = null, StatusCode status = default)
    {
        var data = new DataValue { Value = value, StatusCode = status, SourceTimestamp = sourceTimestamp, ServerTimestamp = serverTimestamp ?? sourceTimestamp };
        Action<UaVariable, DataValue>[] listeners;
        lock (_gate)
        {
            _value = data;
            listeners = _listeners;
        }

        foreach (var listener in listeners)
        {
            listener(this, data);
        }
    }

    /// <summary>
    /// The value was consumed by a client: returned by Read, or taken from a monitored item's queue
    /// into a notification. Raised on the thread pool (never under the server's locks); a simulator
    /// pacing "as fast as the client reads" publishes its next block from here.
    /// </summary>
    public event Action<UaVariable>? Consumed;

    internal void RaiseConsumed()
    {
        if (Consumed is { } handler)
        {
            ThreadPool.QueueUserWorkItem(static state => state.Handler(state.Variable), (Handler: handler, Variable: this), preferLocal: false);
        }
    }

    internal void Subscribe(Action<UaVariable, DataValue> listener)
    {
        lock (_gate)
        {
            _listeners = [.. _listeners, listener];
        }
    }

    internal void Unsubscribe(Action<UaVariable, DataValue> listener)
    {
        lock (_gate)
        {
            _listeners = [.. _listeners.Where(l => l != listener)];
        }
    }
}

/// <summary>Node ids of namespace 0 the server uses beyond <see cref="WellKnownNodes"/>.</summary>
public static class ServerNodeIds
{
    public const uint TypesFolder = 86;
    public const uint ViewsFolder = 87;
    public const uint FolderType = 61;
    public const uint BaseObjectType = 58;
    public const uint BaseDataVariableType = 63;
    public const uint PropertyType = 68;
    public const uint ServerType = 2004;
    public const uint ServerArray = 2254;
    public const uint ServerStatus = 2256;
    public const uint ServerStatusStartTime = 2257;
    public const uint ServerCapabilities = 2268;
    public const uint OperationLimits = 11704;
    public const uint NonHierarchicalReferences = 32;
    public const uint HasSubtype = 45;
    public const uint HasEventSource = 36;
    public const uint HasNotifier = 48;
    public const uint EUInformationType = 887;

    /// <summary>DataType node ids of the built-in types (OPC 10000-6 §5.1.2: id = built-in type number).</summary>
    public static NodeId DataTypeOf(BuiltInType type) => new((uint)type);
}

/// <summary>
/// The server's nodes: the standard Objects/Server skeleton (NamespaceArray, ServerStatus,
/// OperationLimits) plus whatever the application adds (folders and variables in its own
/// namespaces). Thread-safe for reads; build it before serving, or add under <see cref="SyncRoot"/>.
/// </summary>
public sealed class AddressSpace
{
    private static readonly (uint Child, uint Parent)[] ReferenceHierarchy =
    [
        (ServerNodeIds.NonHierarchicalReferences, WellKnownNodes.References),
        (WellKnownNodes.HierarchicalReferences, WellKnownNodes.References),
        (WellKnownNodes.HasChild, WellKnownNodes.HierarchicalReferences),
        (WellKnownNodes.Organizes, WellKnownNodes.HierarchicalReferences),
        (ServerNodeIds.HasEventSource, WellKnownNodes.HierarchicalReferences),
        (ServerNodeIds.HasNotifier, ServerNodeIds.HasEventSource),
        (WellKnownNodes.Aggregates, WellKnownNodes.HasChild),
        (ServerNodeIds.HasSubtype, WellKnownNodes.HasChild),
        (WellKnownNodes.HasComponent, WellKnownNodes.Aggregates),
        (WellKnownNodes.HasProperty, WellKnownNodes.Aggregates),
        (WellKnownNodes.HasTypeDefinition, ServerNodeIds.NonHierarchicalReferences),
    ];

    private readonly Dictionary<NodeId, UaNode> _nodes = [];
    private readonly List<string> _namespaces = ["http://opcfoundation.org/UA/"];
    private readonly TimeProvider _time;
    private readonly UaVariable _namespaceArray;
    private readonly UaVariable _currentTime;

    public AddressSpace(string serverUri, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverUri);
        _time = time ?? TimeProvider.System;
        _namespaces.Add(serverUri);
        var now = _time.GetUtcNow().UtcDateTime;
        Add(new UaNode(new NodeId(WellKnownNodes.RootFolder), NodeClass.Object, new QualifiedName(0, "Root"), "Root", new NodeId(ServerNodeIds.FolderType)));
        AddFolder(new NodeId(WellKnownNodes.ObjectsFolder), new NodeId(WellKnownNodes.RootFolder), new QualifiedName(0, "Objects"), "Objects");
        AddFolder(new NodeId(ServerNodeIds.TypesFolder), new NodeId(WellKnownNodes.RootFolder), new QualifiedName(0, "Types"), "Types");
        AddFolder(new NodeId(ServerNodeIds.ViewsFolder), new NodeId(WellKnownNodes.RootFolder), new QualifiedName(0, "Views"), "Views");
        var server = AddObject(new NodeId(WellKnownNodes.Server), new NodeId(WellKnownNodes.ObjectsFolder), new QualifiedName(0, "Server"), "Server", new NodeId(ServerNodeIds.ServerType), WellKnownNodes.Organizes);
        _namespaceArray = AddProperty(new NodeId(WellKnownNodes.NamespaceArray), server.NodeId, "NamespaceArray", new Variant(BuiltInType.String, _namespaces.ToArray(), true), 0);
        AddProperty(new NodeId(ServerNodeIds.ServerArray), server.NodeId, "ServerArray", new Variant(BuiltInType.String, new string?[] { serverUri }, true), 0);
        var status = AddVariable(new NodeId(ServerNodeIds.ServerStatus), server.NodeId, new QualifiedName(0, "ServerStatus"), "ServerStatus", new Variant(0), ServerNodeIds.DataTypeOf(BuiltInType.ExtensionObject));
        AddVariable(new NodeId(ServerNodeIds.ServerStatusStartTime), status.NodeId, new QualifiedName(0, "StartTime"), "StartTime", new Variant(BuiltInType.DateTime, now), ServerNodeIds.DataTypeOf(BuiltInType.DateTime));
        _currentTime = AddVariable(new NodeId(WellKnownNodes.ServerStatusCurrentTime), status.NodeId, new QualifiedName(0, "CurrentTime"), "CurrentTime", new Variant(BuiltInType.DateTime, now), ServerNodeIds.DataTypeOf(BuiltInType.DateTime));
        State = AddVariable(new NodeId(WellKnownNodes.ServerStatusState), status.NodeId, new QualifiedName(0, "State"), "State", new Variant(0), ServerNodeIds.DataTypeOf(BuiltInType.Int32));
        var capabilities = AddObject(new NodeId(ServerNodeIds.ServerCapabilities), server.NodeId, new QualifiedName(0, "ServerCapabilities"), "ServerCapabilities", new NodeId(ServerNodeIds.BaseObjectType), WellKnownNodes.HasComponent);
        var limits = AddObject(new NodeId(ServerNodeIds.OperationLimits), capabilities.NodeId, new QualifiedName(0, "OperationLimits"), "OperationLimits", new NodeId(ServerNodeIds.BaseObjectType), WellKnownNodes.HasComponent);
        MaxNodesPerRead = AddProperty(new NodeId(WellKnownNodes.MaxNodesPerRead), limits.NodeId, "MaxNodesPerRead", new Variant(0u), 0);
        MaxNodesPerBrowse = AddProperty(new NodeId(WellKnownNodes.MaxNodesPerBrowse), limits.NodeId, "MaxNodesPerBrowse", new Variant(0u), 0);
        MaxNodesPerTranslate = AddProperty(new NodeId(WellKnownNodes.MaxNodesPerTranslateBrowsePathsToNodeIds), limits.NodeId, "MaxNodesPerTranslateBrowsePathsToNodeIds", new Variant(0u), 0);
        MaxMonitoredItemsPerCall = AddProperty(new NodeId(WellKnownNodes.MaxMonitoredItemsPerCall), limits.NodeId, "MaxMonitoredItemsPerCall", new Variant(0u), 0);
    }

    /// <summary>Guards changes to the node set after serving started.</summary>
    public Lock SyncRoot { get; } = new();

    public IReadOnlyList<string> NamespaceUris
    {
        get
        {
            lock (SyncRoot)
            {
                return [.. _namespaces];
            }
        }
    }

    /// <summary>Server/ServerStatus/State (0 = Running).</summary>
    internal UaVariable State { get; }

    internal UaVariable MaxNodesPerRead { get; }

    internal UaVariable MaxNodesPerBrowse { get; }

    internal UaVariable MaxNodesPerTranslate { get; }

    internal UaVariable MaxMonitoredItemsPerCall { get; }

    /// <summary>Adds (or finds) a namespace and returns its index.</summary>
    public ushort AddNamespace(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        lock (SyncRoot)
        {
            var index = _namespaces.IndexOf(uri);
            if (index < 0)
            {
                _namespaces.Add(uri);
                index = _namespaces.Count - 1;
                _namespaceArray.SetValue(new Variant(BuiltInType.String, _namespaces.ToArray(), true), _time.GetUtcNow().UtcDateTime);
            }

            return (ushort)index;
        }
    }

    public UaNode? Find(NodeId nodeId)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        if (nodeId.NamespaceIndex == 0 && nodeId.IdType == IdType.Numeric && nodeId.Numeric == WellKnownNodes.ServerStatusCurrentTime)
        {
            _currentTime.SetValue(new Variant(BuiltInType.DateTime, _time.GetUtcNow().UtcDateTime), _time.GetUtcNow().UtcDateTime);
        }

        lock (SyncRoot)
        {
            return _nodes.GetValueOrDefault(nodeId);
        }
    }

    /// <summary>A folder (FolderType) organised under <paramref name="parent"/>.</summary>
    public UaNode AddFolder(NodeId nodeId, NodeId parent, QualifiedName browseName, string displayName)
    {
        var node = new UaNode(nodeId, NodeClass.Object, browseName, displayName, new NodeId(ServerNodeIds.FolderType));
        Add(node);
        Link(parent, WellKnownNodes.Organizes, nodeId);
        return node;
    }

    /// <summary>An object under <paramref name="parent"/> by <paramref name="referenceType"/> (HasComponent, Organizes).</summary>
    public UaNode AddObject(NodeId nodeId, NodeId parent, QualifiedName browseName, string displayName, NodeId typeDefinition, uint referenceType = WellKnownNodes.HasComponent)
    {
        var node = new UaNode(nodeId, NodeClass.Object, browseName, displayName, typeDefinition);
        Add(node);
        Link(parent, referenceType, nodeId);
        return node;
    }

    /// <summary>A data variable (BaseDataVariableType) as a component of <paramref name="parent"/>.</summary>
    public UaVariable AddVariable(NodeId nodeId, NodeId parent, QualifiedName browseName, string displayName, Variant initial, NodeId dataType, int valueRank = -1, uint arrayLength = 0, double minimumSamplingInterval = 0)
    {
        var variable = new UaVariable(nodeId, browseName, displayName, new NodeId(ServerNodeIds.BaseDataVariableType), dataType, valueRank, initial, _time.GetUtcNow().UtcDateTime)
        {
            ArrayLength = arrayLength,
            MinimumSamplingInterval = minimumSamplingInterval,
        };
        Add(variable);
        Link(parent, WellKnownNodes.HasComponent, nodeId);
        return variable;
    }

    /// <summary>A property (PropertyType, browse name in <paramref name="browseNamespace"/>) of <paramref name="parent"/>.</summary>
    public UaVariable AddProperty(NodeId nodeId, NodeId parent, string name, Variant value, ushort browseNamespace)
    {
        var dataType = value.Type == BuiltInType.ExtensionObject && value.Value is ExtensionObject { Body: EUInformation }
            ? new NodeId(ServerNodeIds.EUInformationType)
            : ServerNodeIds.DataTypeOf(value.Type);
        var variable = new UaVariable(nodeId, new QualifiedName(browseNamespace, name), name, new NodeId(ServerNodeIds.PropertyType), dataType, value.IsArray ? 1 : -1, value, _time.GetUtcNow().UtcDateTime);
        Add(variable);
        Link(parent, WellKnownNodes.HasProperty, nodeId);
        return variable;
    }

    /// <summary>Adds an EngineeringUnits property (EUInformation, UNECE code) to a variable.</summary>
    public UaVariable AddEngineeringUnits(UaVariable variable, string displayName, string uneceCode)
    {
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(uneceCode);
        var unitId = 0;
        foreach (var c in uneceCode)
        {
            unitId = (unitId << 8) | c;
        }

        var eu = new EUInformation
        {
            NamespaceUri = "http://www.opcfoundation.org/UA/units/un/cefact",
            UnitId = unitId,
            DisplayName = new LocalizedText(null, displayName),
            Description = new LocalizedText(null, displayName),
        };
        var id = variable.NodeId.IdType == IdType.String
            ? new NodeId(variable.NodeId.Text + ".EngineeringUnits", variable.NodeId.NamespaceIndex)
            : new NodeId(Guid.NewGuid(), variable.NodeId.NamespaceIndex);
        return AddProperty(id, variable.NodeId, "EngineeringUnits", new Variant(BuiltInType.ExtensionObject, new ExtensionObject(eu)), 0);
    }

    /// <summary>True when <paramref name="type"/> is <paramref name="ancestor"/> or (with subtypes) derives from it.</summary>
    public static bool IsReferenceOfType(NodeId type, NodeId? ancestor, bool includeSubtypes)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (ancestor is null || ancestor.IsNull)
        {
            return true;
        }

        if (type.Equals(ancestor))
        {
            return true;
        }

        if (!includeSubtypes || type.NamespaceIndex != 0 || ancestor.NamespaceIndex != 0 || type.IdType != IdType.Numeric || ancestor.IdType != IdType.Numeric)
        {
            return false;
        }

        var current = type.Numeric;
        for (var depth = 0; depth < 8; depth++)
        {
            var parent = Array.Find(ReferenceHierarchy, r => r.Child == current);
            if (parent == default)
            {
                return false;
            }

            if (parent.Parent == ancestor.Numeric)
            {
                return true;
            }

            current = parent.Parent;
        }

        return false;
    }

    /// <summary>True for the reference types the server knows (for BadReferenceTypeIdInvalid).</summary>
    public static bool IsKnownReferenceType(NodeId type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.NamespaceIndex == 0 && type.IdType == IdType.Numeric
            && (type.Numeric == WellKnownNodes.References || Array.Exists(ReferenceHierarchy, r => r.Child == type.Numeric));
    }

    private void Add(UaNode node)
    {
        lock (SyncRoot)
        {
            if (!_nodes.TryAdd(node.NodeId, node))
            {
                throw new ArgumentException($"Node {node.NodeId} exists already.", nameof(node));
            }
        }
    }

    private void Link(NodeId source, uint referenceType, NodeId target)
    {
        lock (SyncRoot)
        {
            if (!_nodes.TryGetValue(source, out var from))
            {
                throw new ArgumentException($"Parent node {source} does not exist.", nameof(source));
            }

            var type = new NodeId(referenceType);
            from.AddReference(new UaReference(type, true, target));
            _nodes[target].AddReference(new UaReference(type, false, source));
        }
    }
}
