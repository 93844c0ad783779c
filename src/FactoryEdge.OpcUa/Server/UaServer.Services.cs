using System.Security.Cryptography;
using FactoryEdge.OpcUa.Encoding;
using FactoryEdge.OpcUa.Protocol;

namespace FactoryEdge.OpcUa.Server;

/// <summary>The attribute, view and subscription services of <see cref="UaServer"/>.</summary>
public sealed partial class UaServer
{
    private const uint AttributeEventNotifier = 12;
    private const uint AttributeWriteMask = 6;
    private const uint AttributeUserWriteMask = 7;
    private const uint AttributeUserAccessLevel = 18;
    private const uint AttributeHistorizing = 20;
    private const int MaxContinuationPoints = 16;

    private ReadResponse Read(ReadRequest request)
    {
        CheckCount(request.NodesToRead.Length, Options.MaxNodesPerRead);
        if (request.MaxAge < 0)
        {
            throw new ServiceResultException(StatusCodes.BadMaxAgeInvalid, "MaxAge is negative.");
        }

        if (request.TimestampsToReturn is < TimestampsToReturn.Source or > TimestampsToReturn.Neither)
        {
            throw new ServiceResultException(StatusCodes.BadTimestampsToReturnInvalid, $"TimestampsToReturn {(int)request.TimestampsToReturn} is not defined.");
        }

        var results = new DataValue[request.NodesToRead.Length];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = ReadAttribute(request.NodesToRead[i], request.TimestampsToReturn);
        }

        return new ReadResponse { Results = results };
    }

    private DataValue ReadAttribute(ReadValueId read, TimestampsToReturn timestamps)
    {
        var node = AddressSpace.Find(read.NodeId);
        if (node is null)
        {
            return Bad(StatusCodes.BadNodeIdUnknown);
        }

        if (read.DataEncoding.Name is { Length: > 0 } encoding && encoding != "Default Binary")
        {
            return Bad(StatusCodes.BadDataEncodingUnsupported);
        }

        if (read.AttributeId != AttributeIds.Value && read.IndexRange is { Length: > 0 })
        {
            return Bad(StatusCodes.BadIndexRangeNoData);
        }

        var variable = node as UaVariable;
        Variant? value = read.AttributeId switch
        {
            AttributeIds.NodeId => new Variant(BuiltInType.NodeId, node.NodeId),
            AttributeIds.NodeClass => new Variant((int)node.NodeClass),
            AttributeIds.BrowseName => new Variant(BuiltInType.QualifiedName, node.BrowseName),
            AttributeIds.DisplayName => new Variant(BuiltInType.LocalizedText, node.DisplayName),
            AttributeIds.Description => new Variant(BuiltInType.LocalizedText, node.Description),
            AttributeWriteMask or AttributeUserWriteMask => new Variant(0u),
            AttributeEventNotifier when node.NodeClass == NodeClass.Object => new Variant(BuiltInType.Byte, (byte)0),
            AttributeIds.DataType when variable is not null => new Variant(BuiltInType.NodeId, variable.DataType),
            AttributeIds.ValueRank when variable is not null => new Variant(variable.ValueRank),
            AttributeIds.ArrayDimensions when variable is not null => variable.ValueRank < 1 ? Variant.Null : new Variant(BuiltInType.UInt32, new[] { variable.ArrayLength }, true),
            AttributeIds.AccessLevel or AttributeUserAccessLevel when variable is not null => new Variant(BuiltInType.Byte, (byte)1),
            AttributeIds.MinimumSamplingInterval when variable is not null => new Variant(variable.MinimumSamplingInterval),
            AttributeHistorizing when variable is not null => new Variant(false),
            AttributeIds.Value when variable is not null => null,
            _ => Variant.Null,
        };

        if (value is { } attribute)
        {
            return attribute.IsNull && read.AttributeId != AttributeIds.ArrayDimensions
                ? Bad(StatusCodes.BadAttributeIdInvalid)
                : new DataValue { Value = attribute };
        }

        var current = variable!.Value;
        variable.RaiseConsumed();
        var result = new DataValue
        {
            Value = current.Value,
            StatusCode = current.StatusCode,
            SourceTimestamp = timestamps is TimestampsToReturn.Source or TimestampsToReturn.Both ? current.SourceTimestamp : default,
            ServerTimestamp = timestamps is TimestampsToReturn.Server or TimestampsToReturn.Both ? Time.GetUtcNow().UtcDateTime : default,
        };
        if (read.IndexRange is { Length: > 0 } text)
        {
            if (!NumericRange.TryParse(text, out var range, out _))
            {
                return Bad(StatusCodes.BadIndexRangeInvalid);
            }

            if (!current.Value.IsArray || current.Value.Value is not Array array)
            {
                return Bad(StatusCodes.BadIndexRangeNoData);
            }

            var part = range!.Apply(array, out var code);
            if (code != StatusCodes.Good)
            {
                return Bad(code);
            }

            result.Value = new Variant(current.Value.Type, part, true);
        }

        return result;
    }

    private static DataValue Bad(uint status) => new() { StatusCode = new StatusCode(status) };

    private static void CheckCount(int count, uint max)
    {
        if (count == 0)
        {
            throw new ServiceResultException(StatusCodes.BadNothingToDo, "The request names no operation.");
        }

        if (max > 0 && count > max)
        {
            throw new ServiceResultException(StatusCodes.BadTooManyOperations, $"{count} operations in one call; the server's limit is {max}.");
        }
    }

    private BrowseResponse Browse(ServerSession session, BrowseRequest request)
    {
        CheckCount(request.NodesToBrowse.Length, Options.MaxNodesPerBrowse);
        if (!request.View.ViewId.IsNull)
        {
            throw new ServiceResultException(StatusCodes.BadViewIdUnknown, $"View {request.View.ViewId} is not known.");
        }

        var results = new BrowseResult[request.NodesToBrowse.Length];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = BrowseNode(session, request.NodesToBrowse[i], request.RequestedMaxReferencesPerNode);
        }

        return new BrowseResponse { Results = results };
    }

    private BrowseResult BrowseNode(ServerSession session, BrowseDescription description, uint maxReferences)
    {
        var node = AddressSpace.Find(description.NodeId);
        if (node is null)
        {
            return new BrowseResult { StatusCode = StatusCodes.BadNodeIdUnknown };
        }

        if (description.BrowseDirection is < BrowseDirection.Forward or > BrowseDirection.Both)
        {
            return new BrowseResult { StatusCode = StatusCodes.BadBrowseDirectionInvalid };
        }

        if (!description.ReferenceTypeId.IsNull && !AddressSpace.IsKnownReferenceType(description.ReferenceTypeId))
        {
            return new BrowseResult { StatusCode = StatusCodes.BadReferenceTypeIdInvalid };
        }

        var list = new List<ReferenceDescription>();
        foreach (var reference in node.References)
        {
            if ((reference.IsForward && description.BrowseDirection == BrowseDirection.Inverse)
                || (!reference.IsForward && description.BrowseDirection == BrowseDirection.Forward)
                || !AddressSpace.IsReferenceOfType(reference.ReferenceTypeId, description.ReferenceTypeId, description.IncludeSubtypes))
            {
                continue;
            }

            var target = AddressSpace.Find(reference.Target);
            if (target is null || (description.NodeClassMask != 0 && ((uint)target.NodeClass & description.NodeClassMask) == 0))
            {
                continue;
            }

            list.Add(Describe(reference, target, description.ResultMask));
        }

        if (description.ReferenceTypeId.IsNull || AddressSpace.IsReferenceOfType(new NodeId(WellKnownNodes.HasTypeDefinition), description.ReferenceTypeId, description.IncludeSubtypes))
        {
            if (description.BrowseDirection != BrowseDirection.Inverse && node.NodeClass is NodeClass.Object or NodeClass.Variable)
            {
                list.Add(new ReferenceDescription
                {
                    ReferenceTypeId = (description.ResultMask & 1) != 0 ? new NodeId(WellKnownNodes.HasTypeDefinition) : NodeId.Null,
                    IsForward = true,
                    NodeId = new ExpandedNodeId(node.TypeDefinition),
                    BrowseName = (description.ResultMask & 8) != 0 ? new QualifiedName(0, TypeName(node.TypeDefinition)) : default,
                    DisplayName = (description.ResultMask & 16) != 0 ? new LocalizedText(null, TypeName(node.TypeDefinition)) : default,
                    NodeClass = (description.ResultMask & 4) != 0 ? (node.NodeClass == NodeClass.Object ? NodeClass.ObjectType : NodeClass.VariableType) : NodeClass.Unspecified,
                    TypeDefinition = ExpandedNodeId.Null,
                });
            }
        }

        return Page(session, [.. list], maxReferences);
    }

    private static string TypeName(NodeId type) => type.Numeric switch
    {
        ServerNodeIds.FolderType => "FolderType",
        ServerNodeIds.BaseObjectType => "BaseObjectType",
        ServerNodeIds.BaseDataVariableType => "BaseDataVariableType",
        ServerNodeIds.PropertyType => "PropertyType",
        ServerNodeIds.ServerType => "ServerType",
        _ => type.ToString(),
    };

    private static ReferenceDescription Describe(UaReference reference, UaNode target, uint mask) => new()
    {
        ReferenceTypeId = (mask & 1) != 0 ? reference.ReferenceTypeId : NodeId.Null,
        IsForward = reference.IsForward,
        NodeId = new ExpandedNodeId(target.NodeId),
        NodeClass = (mask & 4) != 0 ? target.NodeClass : NodeClass.Unspecified,
        BrowseName = (mask & 8) != 0 ? target.BrowseName : default,
        DisplayName = (mask & 16) != 0 ? target.DisplayName : default,
        TypeDefinition = (mask & 32) != 0 && target.NodeClass is NodeClass.Object or NodeClass.Variable ? new ExpandedNodeId(target.TypeDefinition) : ExpandedNodeId.Null,
    };

    private static BrowseResult Page(ServerSession session, ReferenceDescription[] all, uint maxReferences)
    {
        if (maxReferences == 0 || all.Length <= maxReferences)
        {
            return new BrowseResult { References = all };
        }

        lock (session.Gate)
        {
            if (session.ContinuationPoints.Count >= MaxContinuationPoints)
            {
                return new BrowseResult { StatusCode = StatusCodes.BadNoContinuationPoints };
            }

            var point = RandomNumberGenerator.GetBytes(16);
            session.ContinuationPoints[Convert.ToBase64String(point)] = new BrowseContinuation(all[(int)maxReferences..], maxReferences);
            return new BrowseResult { References = all[..(int)maxReferences], ContinuationPoint = point };
        }
    }

    private static BrowseNextResponse BrowseNext(ServerSession session, BrowseNextRequest request)
    {
        if (request.ContinuationPoints.Length == 0)
        {
            throw new ServiceResultException(StatusCodes.BadNothingToDo, "No continuation points given.");
        }

        var results = new BrowseResult[request.ContinuationPoints.Length];
        for (var i = 0; i < results.Length; i++)
        {
            var key = request.ContinuationPoints[i] is { } bytes ? Convert.ToBase64String(bytes) : "";
            BrowseContinuation? continuation;
            lock (session.Gate)
            {
                session.ContinuationPoints.Remove(key, out continuation);
            }

            if (continuation is null)
            {
                results[i] = new BrowseResult { StatusCode = StatusCodes.BadContinuationPointInvalid };
            }
            else if (request.ReleaseContinuationPoints)
            {
                results[i] = new BrowseResult();
            }
            else
            {
                results[i] = Page(session, continuation.Remaining, continuation.MaxPerNode);
            }
        }

        return new BrowseNextResponse { Results = results };
    }

    private TranslateBrowsePathsToNodeIdsResponse Translate(TranslateBrowsePathsToNodeIdsRequest request)
    {
        CheckCount(request.BrowsePaths.Length, Options.MaxNodesPerBrowse);
        var results = new BrowsePathResult[request.BrowsePaths.Length];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = TranslatePath(request.BrowsePaths[i]);
        }

        return new TranslateBrowsePathsToNodeIdsResponse { Results = results };
    }

    private BrowsePathResult TranslatePath(BrowsePath path)
    {
        if (AddressSpace.Find(path.StartingNode) is null)
        {
            return new BrowsePathResult { StatusCode = StatusCodes.BadNodeIdUnknown };
        }

        if (path.RelativePath.Elements.Length == 0)
        {
            return new BrowsePathResult { StatusCode = StatusCodes.BadNothingToDo };
        }

        var current = new List<NodeId> { path.StartingNode };
        foreach (var element in path.RelativePath.Elements)
        {
            if (string.IsNullOrEmpty(element.TargetName.Name))
            {
                return new BrowsePathResult { StatusCode = StatusCodes.BadBrowseNameInvalid };
            }

            var next = new List<NodeId>();
            foreach (var id in current)
            {
                var node = AddressSpace.Find(id)!;
                foreach (var reference in node.References)
                {
                    if (reference.IsForward == element.IsInverse
                        || !AddressSpace.IsReferenceOfType(reference.ReferenceTypeId, element.ReferenceTypeId, element.IncludeSubtypes))
                    {
                        continue;
                    }

                    if (AddressSpace.Find(reference.Target) is { } target && target.BrowseName == element.TargetName)
                    {
                        next.Add(target.NodeId);
                    }
                }
            }

            if (next.Count == 0)
            {
                return new BrowsePathResult { StatusCode = StatusCodes.BadNoMatch };
            }

            current = next;
        }

        return new BrowsePathResult { Targets = [.. current.Select(static n => new BrowsePathTarget { TargetId = new ExpandedNodeId(n), RemainingPathIndex = uint.MaxValue })] };
    }

    private CreateSubscriptionResponse CreateSubscription(ServerSession session, CreateSubscriptionRequest request)
    {
        var interval = double.IsFinite(request.RequestedPublishingInterval) ? request.RequestedPublishingInterval : 0;
        interval = Math.Clamp(interval, Options.MinPublishingIntervalMs, Options.MaxPublishingIntervalMs);
        var keepAlive = Math.Clamp(request.RequestedMaxKeepAliveCount == 0 ? 10u : request.RequestedMaxKeepAliveCount, 1u, 10_000u);
        var lifetime = Math.Max(request.RequestedLifetimeCount, 3 * keepAlive);
        lifetime = (uint)Math.Min(lifetime, Math.Max(3.0 * keepAlive, 3_600_000 / interval));
        ServerSubscription subscription;
        lock (session.Gate)
        {
            if (session.Subscriptions.Count >= Options.MaxSubscriptionsPerSession)
            {
                throw new ServiceResultException(StatusCodes.BadTooManySubscriptions, $"A session may have at most {Options.MaxSubscriptionsPerSession} subscriptions.");
            }

            var id = (uint)Interlocked.Increment(ref _nextSubscriptionId);
            subscription = new ServerSubscription(id, session, interval, lifetime, keepAlive, request.MaxNotificationsPerPublish, request.PublishingEnabled, request.Priority, Options.MaxRetransmissionQueue);
            session.Subscriptions[id] = subscription;
            _subscriptions[id] = subscription;
        }

        var stop = CancellationTokenSource.CreateLinkedTokenSource(subscription.Stop.Token, _stop.Token);
        _ = Task.Run(() => RunSubscriptionAsync(subscription, stop), CancellationToken.None);
        return new CreateSubscriptionResponse
        {
            SubscriptionId = subscription.Id,
            RevisedPublishingInterval = interval,
            RevisedLifetimeCount = lifetime,
            RevisedMaxKeepAliveCount = keepAlive,
        };
    }

    private async Task RunSubscriptionAsync(ServerSubscription subscription, CancellationTokenSource stop)
    {
        using var _ = stop;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(subscription.PublishingIntervalMs), Time);
        var outgoing = new List<Outgoing>();
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                outgoing.Clear();
                var session = subscription.Session;
                lock (session.Gate)
                {
                    if (subscription.Session != session || session.Closed)
                    {
                        continue;
                    }

                    subscription.Tick(this, Time.GetUtcNow().UtcDateTime, Time.GetTimestamp(), outgoing);
                    if (subscription.Expired)
                    {
                        session.Subscriptions.Remove(subscription.Id);
                        RemoveSubscription(subscription);
                        Log.SubscriptionExpired(_logger, subscription.Id);
                    }
                }

                await SendAllAsync(outgoing).ConfigureAwait(false);
                if (subscription.Expired)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Deleted, session closed, or the server stops.
        }
        catch (Exception ex)
        {
            Log.SubscriptionFailed(_logger, subscription.Id, ex);
            throw;
        }
    }

    private CreateMonitoredItemsResponse CreateMonitoredItems(ServerSession session, CreateMonitoredItemsRequest request)
    {
        CheckCount(request.ItemsToCreate.Length, Options.MaxMonitoredItemsPerCall);
        if (request.TimestampsToReturn is < TimestampsToReturn.Source or > TimestampsToReturn.Neither)
        {
            throw new ServiceResultException(StatusCodes.BadTimestampsToReturnInvalid, $"TimestampsToReturn {(int)request.TimestampsToReturn} is not defined.");
        }

        var results = new MonitoredItemCreateResult[request.ItemsToCreate.Length];
        var created = new List<MonitoredItem>();
        lock (session.Gate)
        {
            if (!session.Subscriptions.TryGetValue(request.SubscriptionId, out var subscription))
            {
                throw new ServiceResultException(StatusCodes.BadSubscriptionIdInvalid, $"Subscription {request.SubscriptionId} is not in this session.");
            }

            for (var i = 0; i < results.Length; i++)
            {
                var (result, item) = CreateItem(subscription, request.ItemsToCreate[i], request.TimestampsToReturn);
                results[i] = result;
                if (item is not null)
                {
                    subscription.Items[item.Id] = item;
                    created.Add(item);
                }
            }
        }

        foreach (var item in created)
        {
            // Initial value first, then changes.
            if (item.Variable is { } variable && item.Target.AttributeId == AttributeIds.Value)
            {
                item.QueueCurrentValue();
                variable.Subscribe(item.OnChange);
            }
            else
            {
                item.QueueCurrentValue(ReadAttribute(item.Target, TimestampsToReturn.Both));
            }
        }

        return new CreateMonitoredItemsResponse { Results = results };
    }

    private (MonitoredItemCreateResult Result, MonitoredItem? Item) CreateItem(ServerSubscription subscription, MonitoredItemCreateRequest create, TimestampsToReturn timestamps)
    {
        static MonitoredItemCreateResult Fail(uint status) => new() { StatusCode = new StatusCode(status) };
        if (subscription.Items.Count >= Options.MaxMonitoredItemsPerSubscription)
        {
            return (Fail(BadTooManyMonitoredItems), null);
        }

        var target = create.ItemToMonitor;
        var node = AddressSpace.Find(target.NodeId);
        if (node is null)
        {
            return (Fail(StatusCodes.BadNodeIdUnknown), null);
        }

        var variable = node as UaVariable;
        if (target.AttributeId == AttributeIds.Value && variable is null)
        {
            return (Fail(StatusCodes.BadAttributeIdInvalid), null);
        }

        if (target.AttributeId is 0 or > 27)
        {
            return (Fail(StatusCodes.BadAttributeIdInvalid), null);
        }

        if (target.IndexRange is { Length: > 0 } range && (target.AttributeId != AttributeIds.Value || !NumericRange.TryParse(range, out _, out _)))
        {
            return (Fail(StatusCodes.BadIndexRangeInvalid), null);
        }

        if (create.MonitoringMode is < MonitoringMode.Disabled or > MonitoringMode.Reporting)
        {
            return (Fail(StatusCodes.BadInvalidArgument), null);
        }

        DataChangeFilter? filter = null;
        var parameters = create.RequestedParameters;
        if (!parameters.Filter.IsNull)
        {
            if (parameters.Filter.Body is not DataChangeFilter dataChange)
            {
                return (Fail(StatusCodes.BadMonitoredItemFilterUnsupported), null);
            }

            if (target.AttributeId != AttributeIds.Value)
            {
                return (Fail(StatusCodes.BadFilterNotAllowed), null);
            }

            if (dataChange.DeadbandType == (uint)DeadbandType.Percent)
            {
                // Percent needs an EURange, which these variables do not have.
                return (Fail(StatusCodes.BadMonitoredItemFilterUnsupported), null);
            }

            if (dataChange.DeadbandType > (uint)DeadbandType.Percent || dataChange.DeadbandValue < 0 || dataChange.Trigger is < DataChangeTrigger.Status or > DataChangeTrigger.StatusValueTimestamp)
            {
                return (Fail(StatusCodes.BadDeadbandFilterInvalid), null);
            }

            filter = dataChange;
        }

        var sampling = parameters.SamplingInterval < 0 ? subscription.PublishingIntervalMs : parameters.SamplingInterval;
        var minimum = variable?.MinimumSamplingInterval ?? 0;
        if (sampling > 0)
        {
            sampling = Math.Max(sampling, Math.Max(minimum, Options.MinSamplingIntervalMs));
        }

        sampling = Math.Min(sampling, 3_600_000);
        var queue = Math.Clamp(parameters.QueueSize == 0 ? 1u : parameters.QueueSize, 1u, Options.MaxQueueSize);
        var id = (uint)Interlocked.Increment(ref _nextMonitoredItemId);
        var item = new MonitoredItem(id, parameters.ClientHandle, target, variable, create.MonitoringMode, sampling, queue, parameters.DiscardOldest, timestamps, filter, Time);
        return (new MonitoredItemCreateResult { MonitoredItemId = id, RevisedSamplingInterval = sampling, RevisedQueueSize = queue }, item);
    }

    private DeleteMonitoredItemsResponse DeleteMonitoredItems(ServerSession session, DeleteMonitoredItemsRequest request)
    {
        CheckCount(request.MonitoredItemIds.Length, Options.MaxMonitoredItemsPerCall);
        var results = new StatusCode[request.MonitoredItemIds.Length];
        lock (session.Gate)
        {
            if (!session.Subscriptions.TryGetValue(request.SubscriptionId, out var subscription))
            {
                throw new ServiceResultException(StatusCodes.BadSubscriptionIdInvalid, $"Subscription {request.SubscriptionId} is not in this session.");
            }

            for (var i = 0; i < results.Length; i++)
            {
                if (subscription.Items.Remove(request.MonitoredItemIds[i], out var item))
                {
                    item.Variable?.Unsubscribe(item.OnChange);
                    results[i] = StatusCode.Good;
                }
                else
                {
                    results[i] = StatusCodes.BadMonitoredItemIdInvalid;
                }
            }
        }

        return new DeleteMonitoredItemsResponse { Results = results };
    }

    private PublishResponse? Publish(ServerSession session, ServerConnection connection, PublishRequest request, uint requestId, uint tokenId)
    {
        var outgoing = new List<Outgoing>();
        lock (session.Gate)
        {
            if (session.Subscriptions.Count == 0)
            {
                throw new ServiceResultException(StatusCodes.BadNoSubscription, "The session has no subscription.");
            }

            var acks = new StatusCode[request.SubscriptionAcknowledgements.Length];
            for (var i = 0; i < acks.Length; i++)
            {
                var ack = request.SubscriptionAcknowledgements[i];
                acks[i] = session.Subscriptions.TryGetValue(ack.SubscriptionId, out var acked)
                    ? acked.Acknowledge(ack.SequenceNumber)
                    : StatusCodes.BadSubscriptionIdInvalid;
            }

            var now = Time.GetUtcNow().UtcDateTime;
            session.Publishes.Enqueue(new PendingPublish(connection, requestId, tokenId, request, acks));
            while (session.Publishes.Count > Options.MaxPublishRequestsPerSession && session.TryTakePublish(out var oldest))
            {
                var fault = new ServiceFault();
                fault.ResponseHeader.RequestHandle = oldest.Request.RequestHeader.RequestHandle;
                fault.ResponseHeader.ServiceResult = StatusCodes.BadTooManyPublishRequests;
                fault.ResponseHeader.Timestamp = now;
                outgoing.Add(new Outgoing(oldest.Connection, oldest.RequestId, oldest.TokenId, fault));
            }

            foreach (var subscription in session.Subscriptions.Values.OrderByDescending(static s => s.Priority))
            {
                subscription.OnPublishRequest();
                if (subscription.Late && session.HasLivePublish())
                {
                    subscription.Serve(this, now, outgoing);
                }
            }
        }

        if (outgoing.Count > 0)
        {
            _ = SendAllAsync(outgoing);
        }

        return null;
    }

    private static RepublishResponse Republish(ServerSession session, RepublishRequest request)
    {
        lock (session.Gate)
        {
            if (!session.Subscriptions.TryGetValue(request.SubscriptionId, out var subscription))
            {
                throw new ServiceResultException(StatusCodes.BadSubscriptionIdInvalid, $"Subscription {request.SubscriptionId} is not in this session.");
            }

            var message = subscription.Find(request.RetransmitSequenceNumber)
                ?? throw new ServiceResultException(StatusCodes.BadMessageNotAvailable, $"Message {request.RetransmitSequenceNumber} is no longer available.");
            return new RepublishResponse { NotificationMessage = message };
        }
    }

    private DeleteSubscriptionsResponse DeleteSubscriptions(ServerSession session, DeleteSubscriptionsRequest request)
    {
        CheckCount(request.SubscriptionIds.Length, 0);
        var results = new StatusCode[request.SubscriptionIds.Length];
        lock (session.Gate)
        {
            for (var i = 0; i < results.Length; i++)
            {
                if (session.Subscriptions.Remove(request.SubscriptionIds[i], out var subscription))
                {
                    RemoveSubscription(subscription);
                    results[i] = StatusCode.Good;
                }
                else
                {
                    results[i] = StatusCodes.BadSubscriptionIdInvalid;
                }
            }
        }

        return new DeleteSubscriptionsResponse { Results = results };
    }

    private TransferSubscriptionsResponse TransferSubscriptions(ServerSession session, TransferSubscriptionsRequest request)
    {
        CheckCount(request.SubscriptionIds.Length, 0);
        var results = new TransferResult[request.SubscriptionIds.Length];
        for (var i = 0; i < results.Length; i++)
        {
            if (!_subscriptions.TryGetValue(request.SubscriptionIds[i], out var subscription))
            {
                results[i] = new TransferResult { StatusCode = StatusCodes.BadSubscriptionIdInvalid };
                continue;
            }

            var from = subscription.Session;
            var (first, second) = from.SessionId.Numeric < session.SessionId.Numeric ? (from, session) : (session, from);
            lock (first.Gate)
            {
                lock (second.Gate)
                {
                    if (from != session)
                    {
                        from.Subscriptions.Remove(subscription.Id);
                        session.Subscriptions[subscription.Id] = subscription;
                        subscription.Session = session;
                    }

                    if (request.SendInitialValues)
                    {
                        subscription.ResendInitialValues();
                    }

                    results[i] = new TransferResult { StatusCode = StatusCode.Good, AvailableSequenceNumbers = subscription.AvailableSequenceNumbers };
                }
            }
        }

        return new TransferSubscriptionsResponse { Results = results };
    }
}
