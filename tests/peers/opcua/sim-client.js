#!/usr/bin/env node
// node-opcua's client against FactoryEdge's own OPC UA server (factoryedge-sim opcua): lists the
// endpoints, browses the Objects folder, reads a machine's Waveform (whole and an IndexRange) and
// SampleRate, then subscribes to the Waveform for --seconds and prints one JSON line with what it saw.
//   node sim-client.js --url opc.tcp://127.0.0.1:PORT --machine NAME [--seconds 3] [--security POLICY:MODE]
//   (POLICY:MODE e.g. Basic256Sha256:SignAndEncrypt; the server's certificate is accepted.)
"use strict";
const opcua = require("node-opcua");

function parseArgs(argv) {
    const o = { url: "", machine: "healthy", seconds: 3, security: null, ns: "urn:factoryedge:simulator" };
    for (let i = 2; i < argv.length; i++) {
        const a = argv[i];
        const next = () => argv[++i];
        switch (a) {
            case "--url": o.url = next(); break;
            case "--machine": o.machine = next(); break;
            case "--seconds": o.seconds = parseFloat(next()); break;
            case "--security": o.security = next(); break;
            default: throw new Error("unknown argument " + a);
        }
    }
    return o;
}

async function main() {
    const o = parseArgs(process.argv);
    let security = { securityMode: opcua.MessageSecurityMode.None, securityPolicy: opcua.SecurityPolicy.None };
    let pki = null;
    if (o.security) {
        const [policy, mode] = o.security.split(":");
        pki = require("fs").mkdtempSync(require("path").join(require("os").tmpdir(), "factoryedge-node-sim-client-pki-"));
        const clientCertificateManager = new opcua.OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
        security = { securityMode: opcua.MessageSecurityMode[mode], securityPolicy: opcua.SecurityPolicy[policy], clientCertificateManager };
    }
    const client = opcua.OPCUAClient.create({ endpointMustExist: false, ...security, connectionStrategy: { maxRetry: 2, initialDelay: 200, maxDelay: 1000 } });
    await client.connect(o.url);
    const endpoints = (await client.getEndpoints()).map(e => `${e.securityPolicyUri.split("#")[1]}/${opcua.MessageSecurityMode[e.securityMode]}`);
    const session = await client.createSession();
    const nsArray = await session.readNamespaceArray();
    const ns = nsArray.indexOf(o.ns);
    const browse = await session.browse("i=85");
    const objects = browse.references.map(r => r.browseName.name);
    const folder = await session.browse(`ns=${ns};s=${o.machine}`);
    const variables = folder.references.map(r => r.browseName.name).sort();
    const waveformId = `ns=${ns};s=${o.machine}.Waveform`;
    const [whole, rate] = await session.read([{ nodeId: waveformId, attributeId: opcua.AttributeIds.Value }, { nodeId: `ns=${ns};s=${o.machine}.SampleRate`, attributeId: opcua.AttributeIds.Value }]);
    const range = await session.read({ nodeId: waveformId, attributeId: opcua.AttributeIds.Value, indexRange: new opcua.NumericRange("0:9") });
    const dataType = await session.read({ nodeId: waveformId, attributeId: opcua.AttributeIds.DataType });

    const subscription = await session.createSubscription2({ requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 0 });
    let notifications = 0;
    let lengths = new Set();
    let stamps = [];
    const item = opcua.ClientMonitoredItem.create(subscription, { nodeId: waveformId, attributeId: opcua.AttributeIds.Value }, { samplingInterval: 0, queueSize: 10, discardOldest: true }, opcua.TimestampsToReturn.Both);
    item.on("changed", dv => {
        notifications++;
        lengths.add(dv.value.value.length);
        stamps.push(dv.sourceTimestamp.getTime());
    });
    await new Promise(r => setTimeout(r, o.seconds * 1000));
    await subscription.terminate();
    await session.close();
    await client.disconnect();
    if (pki) require("fs").rmSync(pki, { recursive: true, force: true });
    let ordered = true;
    for (let i = 1; i < stamps.length; i++) if (stamps[i] <= stamps[i - 1]) ordered = false;
    const samples = Array.from(whole.value.value);
    const rms = Math.sqrt(samples.reduce((s, v) => s + v * v, 0) / samples.length);
    console.log(JSON.stringify({
        endpoints, namespace: ns, objects, variables,
        waveformStatus: whole.statusCode.name, waveformLength: samples.length, waveformRms: rms, dataType: dataType.value.value.toString(),
        sampleRate: rate.value.value, rangeLength: range.value.value.length,
        notifications, lengths: Array.from(lengths), ordered,
    }));
}

main().catch(err => { console.error(err && err.stack ? err.stack : String(err)); process.exit(1); });
