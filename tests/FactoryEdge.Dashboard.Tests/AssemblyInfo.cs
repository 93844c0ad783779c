// The gateway hosts of the browser tests each run six simulated machines in real time: one at a
// time on a two-core machine, and the alert test's host starts right before that test.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
