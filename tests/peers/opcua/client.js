#!/usr/bin/env node
// node-opcua's own client, the reference in FactoryEdge.OpcUa's benchmark. Subscribes to the test
// server's Float[N] waveform and/or the first --scalars scalar variables for --seconds, then prints one
// JSON line: notifications (data-change items) and values received, its own CPU (user+system, s),
// RSS and the time to create the monitored items.
//   node client.js --url opc.tcp://127.0.0.1:PORT --seconds 20 [--warmup 5] [--waveform] [--scalars 1000] [--publishing 100]
//                  [--security POLICY:MODE]   (e.g. Aes256_Sha256_RsaPss:SignAndEncrypt; accepts the server's certificate)
"use strict";
const opcua = require("node-opcua");

function parseArgs(argv) {
    const o = { url: "", seconds: 10, warmup: 1, waveform: false, scalars: 0, publishing: 100, ns: "urn:factoryedge:test", security: null };
    for (let i = 2; i < argv.length; i++) {
        const a = argv[i];
        const next = () => argv[++i];
        switch (a) {
            case "--url": o.url = next(); break;
            case "--seconds": o.seconds = parseFloat(next()); break;
            case "--warmup": o.warmup = parseFloat(next()); break;
            case "--waveform": o.waveform = true; break;
            case "--scalars": o.scalars = parseInt(next(), 10); break;
            case "--publishing": o.publishing = parseInt(next(), 10); break;
            case "--security": o.security = next(); break;
            default: throw new Error("unknown argument " + a);
        }
    }
    return o;
}

async function main() {
    const o = parseArgs(process.argv);
    let security = { securityMode: opcua.MessageSecurityMode.None, securityPolicy: opcua.SecurityPolicy.None };
    if (o.security) {
        const [policy, mode] = o.security.split(":");
        const pki = require("fs").mkdtempSync(require("path").join(require("os").tmpdir(), "factoryedge-node-client-pki-"));
        const clientCertificateManager = new opcua.OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
        security = { securityMode: opcua.MessageSecurityMode[mode], securityPolicy: opcua.SecurityPolicy[policy], clientCertificateManager };
    }
    const client = opcua.OPCUAClient.create({ endpointMustExist: false, ...security, keepSessionAlive: true });
    await client.connect(o.url);
    const session = await client.createSession();
    const nsArray = await session.readNamespaceArray();
    const ns = nsArray.indexOf(o.ns);
    const subscription = await session.createSubscription2({ requestedPublishingInterval: o.publishing, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 0 });
    const items = [];
    if (o.waveform) items.push({ nodeId: `ns=${ns};s=Machine1.Waveform`, attributeId: opcua.AttributeIds.Value });
    for (let i = 0; i < o.scalars; i++) items.push({ nodeId: `ns=${ns};s=Scalar.${String(i).padStart(5, "0")}`, attributeId: opcua.AttributeIds.Value });
    let notifications = 0;
    let values = 0;
    let counting = false;
    // node-opcua's client does not split by the server's MaxMonitoredItemsPerCall: do it here.
    const limits = await session.read({ nodeId: "i=11714", attributeId: opcua.AttributeIds.Value });
    const perCall = limits.value.value > 0 ? limits.value.value : items.length;
    const onChanged = (_item, dataValue) => {
        if (!counting) return;
        notifications++;
        const v = dataValue.value.value;
        values += (v && v.length !== undefined && typeof v !== "string") ? v.length : 1;
    };
    const createStart = process.hrtime.bigint();
    for (let i = 0; i < items.length; i += perCall) {
        const group = await subscription.monitorItems(items.slice(i, i + perCall), { samplingInterval: 0, discardOldest: true, queueSize: 10 }, opcua.TimestampsToReturn.Both);
        group.on("changed", onChanged);
    }
    const createMs = Number(process.hrtime.bigint() - createStart) / 1e6;
    await new Promise((r) => setTimeout(r, o.warmup * 1000));
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    counting = true;
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    counting = false;
    const cpu = process.cpuUsage(cpu0);
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const rss = process.memoryUsage().rss;
    process.stdout.write(JSON.stringify({ notifications, values, seconds: elapsed, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssBytes: rss, createMs }) + "\n");
    await subscription.terminate();
    await session.close();
    await client.disconnect();
}

main().catch((err) => { console.error(err); process.exit(1); });
