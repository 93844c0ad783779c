using FactoryEdge.Receiver;

// factoryedge-receiver --urls http://127.0.0.1:8700 --Receiver:Directory=./received --Receiver:Faults:FailureRate=0.2
var app = ReceiverApp.Build(args);
await app.RunAsync().ConfigureAwait(false);
