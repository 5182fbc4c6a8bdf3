// Copyright (c) Cocoon contributors. Licensed under the MIT License.

// One end-to-end test at a time. Every class boots real VMs, under TCG on most CI hosts, with fixed
// deadlines (boot, agent answer, command timeouts). Run in parallel, xunit starts every class's
// fixture at once (async tests do not hold one of its maxParallelThreads while they await), so up to
// seven guests competed for two cores and whether a deadline held depended on host load. Serially,
// at most one class fixture's VM and the running test's own VMs (two at most) are up at any time,
// so each deadline is measured against one guest's boot, not seven.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
