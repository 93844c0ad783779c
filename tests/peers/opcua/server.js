#!/usr/bin/env node
// node-opcua test server for FactoryEdge.OpcUa's interop tests and benchmark.
// Listens on 127.0.0.1 only (SecurityPolicy None, anonymous and user/password), prints "READY <port>".
//
// Address space (namespace "urn:factoryedge:test", at an index above 1; with --swap-namespaces it
// moves, as indexes may after a server restart):
//   Objects/Machine1/Waveform     Float[N] (s=Machine1.Waveform), new block every --interval ms:
//                                 sample k of block s = (s % 1000) * 10000 + k; EngineeringUnits "g"
//   Objects/Machine1/Sequence     UInt32, block number s
//   Objects/Machine1/SampleRate   Double, N * 1000 / interval (samples per second)
//   Objects/Machine1/Speed        Double 1480 + (s % 20), EngineeringUnits rpm
//   Objects/Machine1/Temperature  Double, EngineeringUnits °C
//   Objects/Machine1/Double       Double (s=Machine1.Double), s * 0.5
//   Objects/Machine1/BigWaveform  Float[--big-length] (multi-chunk messages), sample k = k + s
//   Objects/Scalars/Scalar.00000 … Double, --scalars of them; the first --update-scalars change every interval
//
// Options: --port P --interval MS --waveform-length N --big-length N --scalars N --update-scalars N
//          --max-nodes-per-read N --max-monitored-items-per-call N --max-nodes-per-browse N
//          --pki DIR --swap-namespaces --user NAME:PASSWORD
// Security (secure-server.js passes --secure): --secure offers Basic256Sha256, Aes128_Sha256_RsaOaep and
// Aes256_Sha256_RsaPss, each in Sign and SignAndEncrypt (plus None with --allow-none); --cert FILE
// --key FILE serve a given certificate (PEM or DER, PEM key) instead of node-opcua's own;
// --reject-unknown refuses client certificates not in PKI/server/trusted/certs (default: accepts them).
"use strict";
const path = require("path");
const os = require("os");
const fs = require("fs");
const opcua = require("node-opcua");

function parseArgs(argv) {
    const o = {
        port: 4840, interval: 100, waveformLength: 4096, bigLength: 65536, scalars: 10000, updateScalars: 0,
        maxNodesPerRead: 1000, maxMonitoredItemsPerCall: 1000, maxNodesPerBrowse: 500,
        pki: null, swapNamespaces: false, users: [["operator", "secret"]],
        secure: false, allowNone: false, cert: null, key: null, rejectUnknown: false,
    };
    for (let i = 2; i < argv.length; i++) {
        const a = argv[i];
        const next = () => argv[++i];
        switch (a) {
            case "--port": o.port = parseInt(next(), 10); break;
            case "--interval": o.interval = parseInt(next(), 10); break;
            case "--waveform-length": o.waveformLength = parseInt(next(), 10); break;
            case "--big-length": o.bigLength = parseInt(next(), 10); break;
            case "--scalars": o.scalars = parseInt(next(), 10); break;
            case "--update-scalars": o.updateScalars = parseInt(next(), 10); break;
            case "--max-nodes-per-read": o.maxNodesPerRead = parseInt(next(), 10); break;
            case "--max-monitored-items-per-call": o.maxMonitoredItemsPerCall = parseInt(next(), 10); break;
            case "--max-nodes-per-browse": o.maxNodesPerBrowse = parseInt(next(), 10); break;
            case "--pki": o.pki = next(); break;
            case "--swap-namespaces": o.swapNamespaces = true; break;
            case "--user": { const [u, p] = next().split(":"); o.users.push([u, p]); break; }
            case "--secure": o.secure = true; break;
            case "--allow-none": o.allowNone = true; break;
            case "--cert": o.cert = next(); break;
            case "--key": o.key = next(); break;
            case "--reject-unknown": o.rejectUnknown = true; break;
            default: throw new Error("unknown argument " + a);
        }
    }
    return o;
}

async function main() {
    const o = parseArgs(process.argv);
    // Let the server report every change: no merging of updates below 50 ms.
    opcua.MonitoredItem.minimumSamplingInterval = 0;
    opcua.Subscription.minimumPublishingInterval = 10;
    const pki = o.pki || fs.mkdtempSync(path.join(os.tmpdir(), "factoryedge-opcua-pki-"));
    const serverCertificateManager = new opcua.OPCUACertificateManager({ rootFolder: path.join(pki, "server"), automaticallyAcceptUnknownCertificate: !o.rejectUnknown });
    const P = opcua.SecurityPolicy;
    const M = opcua.MessageSecurityMode;
    const securePolicies = [P.Basic256Sha256, P.Aes128_Sha256_RsaOaep, P.Aes256_Sha256_RsaPss];
    const security = o.secure
        ? { securityPolicies: o.allowNone ? [P.None, ...securePolicies] : securePolicies, securityModes: o.allowNone ? [M.None, M.Sign, M.SignAndEncrypt] : [M.Sign, M.SignAndEncrypt] }
        // Basic256Sha256 is listed so that the None endpoint offers an (RSA-OAEP encrypted) user name token.
        : { securityPolicies: [P.None, P.Basic256Sha256], securityModes: [M.None] };
    const certificate = o.cert ? { certificateFile: o.cert, privateKeyFile: o.key } : {};
    const userCertificateManager = new opcua.OPCUACertificateManager({ rootFolder: path.join(pki, "user"), automaticallyAcceptUnknownCertificate: true });
    const server = new opcua.OPCUAServer({
        port: o.port,
        hostname: "127.0.0.1",
        alternateHostname: [],
        ...security,
        ...certificate,
        allowAnonymous: true,
        // A secure server keeps a restricted None endpoint for GetEndpoints only (how clients learn its certificate).
        disableDiscovery: !o.secure,
        registerServerMethod: opcua.RegisterServerMethod.HIDDEN,
        serverCertificateManager,
        userCertificateManager,
        userManager: { isValidUser: (user, password) => o.users.some(([u, p]) => u === user && p === password) },
        maxConnectionsPerEndpoint: 200,
        serverCapabilities: {
            minSupportedSampleRate: 0,
            maxArrayLength: 1 << 20,
            maxMonitoredItems: 200000,
            maxMonitoredItemsPerSubscription: 200000,
            operationLimits: {
                maxNodesPerRead: o.maxNodesPerRead,
                maxNodesPerBrowse: o.maxNodesPerBrowse,
                maxMonitoredItemsPerCall: o.maxMonitoredItemsPerCall,
                maxNodesPerTranslateBrowsePathsToNodeIds: 1000,
            },
        },
        buildInfo: { productName: "FactoryEdgeTestServer", buildNumber: "1" },
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    // Two namespaces of our own: the one the tests use is never at index 1, and moves with --swap-namespaces.
    const first = o.swapNamespaces ? "urn:factoryedge:test" : "urn:factoryedge:other";
    const second = o.swapNamespaces ? "urn:factoryedge:other" : "urn:factoryedge:test";
    addressSpace.registerNamespace(first);
    addressSpace.registerNamespace(second);
    const ns = addressSpace.getNamespace("urn:factoryedge:test");

    const machine = ns.addFolder(addressSpace.rootFolder.objects, { browseName: "Machine1", nodeId: "s=Machine1" });
    let sequence = 0;
    const waveform = new Float32Array(o.waveformLength);
    const fillWaveform = () => {
        const base = (sequence % 1000) * 10000;
        for (let k = 0; k < waveform.length; k++) waveform[k] = base + k;
    };
    fillWaveform();
    const waveformNode = ns.addAnalogDataItem({
        componentOf: machine, browseName: "Waveform", nodeId: "s=Machine1.Waveform",
        dataType: "Float", valueRank: 1, arrayDimensions: [o.waveformLength], minimumSamplingInterval: 0,
        engineeringUnitsRange: { low: -100, high: 100 },
        engineeringUnits: opcua.makeEUInformation("g", "g", "standard gravity"),
        value: { dataType: opcua.DataType.Float, arrayType: opcua.VariantArrayType.Array, value: waveform },
    });
    const sequenceNode = ns.addVariable({ componentOf: machine, browseName: "Sequence", nodeId: "s=Machine1.Sequence", dataType: "UInt32", minimumSamplingInterval: 0, value: { dataType: opcua.DataType.UInt32, value: 0 } });
    ns.addVariable({ componentOf: machine, browseName: "SampleRate", nodeId: "s=Machine1.SampleRate", dataType: "Double", minimumSamplingInterval: 0, value: { dataType: opcua.DataType.Double, value: o.waveformLength * 1000 / o.interval } });
    const speedNode = ns.addAnalogDataItem({
        componentOf: machine, browseName: "Speed", nodeId: "s=Machine1.Speed", dataType: "Double", minimumSamplingInterval: 0,
        engineeringUnitsRange: { low: 0, high: 6000 }, engineeringUnits: opcua.standardUnits.revolutions_per_minute,
        value: { dataType: opcua.DataType.Double, value: 1480 },
    });
    ns.addAnalogDataItem({
        componentOf: machine, browseName: "Temperature", nodeId: "s=Machine1.Temperature", dataType: "Double", minimumSamplingInterval: 0,
        engineeringUnitsRange: { low: -40, high: 150 }, engineeringUnits: opcua.standardUnits.degree_celsius,
        value: { dataType: opcua.DataType.Double, value: 42.5 },
    });
    const doubleNode = ns.addVariable({ componentOf: machine, browseName: "Double", nodeId: "s=Machine1.Double", dataType: "Double", minimumSamplingInterval: 0, value: { dataType: opcua.DataType.Double, value: 0 } });
    const big = new Float32Array(o.bigLength);
    const bigNode = ns.addVariable({
        componentOf: machine, browseName: "BigWaveform", nodeId: "s=Machine1.BigWaveform", dataType: "Float", valueRank: 1, arrayDimensions: [o.bigLength], minimumSamplingInterval: 0,
        value: { dataType: opcua.DataType.Float, arrayType: opcua.VariantArrayType.Array, value: big },
    });

    const scalarsFolder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: "Scalars", nodeId: "s=Scalars" });
    const scalarNodes = [];
    for (let i = 0; i < o.scalars; i++) {
        const name = "Scalar." + String(i).padStart(5, "0");
        scalarNodes.push(ns.addVariable({ componentOf: scalarsFolder, browseName: name, nodeId: "s=" + name, dataType: "Double", minimumSamplingInterval: 0, value: { dataType: opcua.DataType.Double, value: i } }));
    }

    // Like an acquisition device, the waveform is stamped by its sample clock (start + sequence × block
    // duration), not by when the timer happened to fire: a loaded machine delays the timer, not the clock.
    const clockStart = Date.now();
    const tick = () => {
        sequence++;
        const now = new Date();
        const blockTime = new Date(clockStart + sequence * o.interval);
        fillWaveform();
        const options = { sourceTimestamp: now, serverTimestamp: now, statusCode: opcua.StatusCodes.Good };
        waveformNode.setValueFromSource({ dataType: opcua.DataType.Float, arrayType: opcua.VariantArrayType.Array, value: Float32Array.from(waveform) }, opcua.StatusCodes.Good, blockTime);
        sequenceNode.setValueFromSource({ dataType: opcua.DataType.UInt32, value: sequence }, opcua.StatusCodes.Good, now);
        speedNode.setValueFromSource({ dataType: opcua.DataType.Double, value: 1480 + (sequence % 20) }, opcua.StatusCodes.Good, now);
        doubleNode.setValueFromSource({ dataType: opcua.DataType.Double, value: sequence * 0.5 }, opcua.StatusCodes.Good, now);
        if (sequence % 10 === 0) {
            for (let k = 0; k < big.length; k++) big[k] = k + sequence;
            bigNode.setValueFromSource({ dataType: opcua.DataType.Float, arrayType: opcua.VariantArrayType.Array, value: Float32Array.from(big) }, opcua.StatusCodes.Good, now);
        }
        for (let i = 0; i < o.updateScalars && i < scalarNodes.length; i++) {
            scalarNodes[i].setValueFromSource({ dataType: opcua.DataType.Double, value: sequence * 1000 + i }, opcua.StatusCodes.Good, now);
        }
        void options;
    };
    for (let k = 0; k < big.length; k++) big[k] = k;
    setInterval(tick, o.interval);

    await server.start();
    process.stdout.write("READY " + server.endpoints[0].port + " " + addressSpace.getNamespaceArray().map(n => n.namespaceUri).join(",") + "\n");
    const stop = async () => { await server.shutdown(0); process.exit(0); };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
}

main().catch((err) => { console.error(err); process.exit(1); });
