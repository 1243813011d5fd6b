/* zabsim: command line of the simulator.
 *   zabsim swarm FROM COUNT [--faults=BITS] [--expect-violation] [--stats]
 *   zabsim seed N [--trace] [--faults=BITS]
 *   zabsim scenario NAME|all [--trace] [--faults=BITS] [--expect-violation]
 *   zabsim list
 * A swarm run ends with exactly one summary line:
 *   sim: seeds=N faults=N committed=N elections=N violations=N
 * and every failing seed prints `seed=N <violation>` and how to replay it.
 * --stats adds, on stderr, how often each fault kind and sync mode ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static bool g_stats;

static unsigned parse_faults(int argc, char **argv, bool *trace, bool *expect)
{
	unsigned f = 0;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "--faults=", 9))
			f = (unsigned)strtoul(argv[i] + 9, NULL, 0);
		else if (!strcmp(argv[i], "--trace"))
			*trace = true;
		else if (!strcmp(argv[i], "--expect-violation"))
			*expect = true;
		else if (!strcmp(argv[i], "--stats"))
			g_stats = true;
	}
	return f;
}

static void add_stats(struct sim_stats *t, const struct sim_stats *r)
{
	t->faults += r->faults;
	t->committed += r->committed;
	t->elections += r->elections;
	t->acked += r->acked;
	t->events += r->events;
	for (int k = 0; k < SIM_FAULT_KINDS; k++)
		t->by_kind[k] += r->by_kind[k];
	for (int m = 0; m < 4; m++)
		t->syncs[m] += r->syncs[m];
	t->txnlog_diffs += r->txnlog_diffs;
	t->trunc_refused += r->trunc_refused;
	t->sync_reads += r->sync_reads;
	t->crashes += r->crashes;
}

static void print_stats(const struct sim_stats *t)
{
	fprintf(stderr, "faults by kind:");
	for (int k = 0; swarm_fault_name(k); k++)
		fprintf(stderr, " %s=%llu", swarm_fault_name(k), (unsigned long long)t->by_kind[k]);
	fprintf(stderr, "\nsyncs: DIFF=%llu (from the txn log %llu) TRUNC=%llu SNAP=%llu; TRUNC refused=%llu\n",
		(unsigned long long)t->syncs[ZAB_SYNC_DIFF], (unsigned long long)t->txnlog_diffs,
		(unsigned long long)t->syncs[ZAB_SYNC_TRUNC], (unsigned long long)t->syncs[ZAB_SYNC_SNAP],
		(unsigned long long)t->trunc_refused);
	fprintf(stderr, "acked writes=%llu sync+reads=%llu crashes=%llu events=%llu\n",
		(unsigned long long)t->acked, (unsigned long long)t->sync_reads,
		(unsigned long long)t->crashes, (unsigned long long)t->events);
}

static int cmd_swarm(uint64_t from, uint64_t count, unsigned faults, bool expect)
{
	struct sim_stats tot = {0};
	uint64_t bad = 0, n = 0;
	for (uint64_t seed = from; seed < from + count; seed++) {
		struct swarm_result r = swarm_run(seed, faults, false);
		n++;
		add_stats(&tot, &r.st);
		if (!r.ok) {
			bad++;
			printf("seed=%llu %s\n", (unsigned long long)seed, r.violation);
			char fl[32] = "";
			if (faults)
				snprintf(fl, sizeof fl, " FAULTS=%u", faults);
			printf("  replay: make sim SEED=%llu%s\n", (unsigned long long)seed, fl);
			if (expect)
				break;
		}
	}
	printf("sim: seeds=%llu faults=%llu committed=%llu elections=%llu violations=%llu\n",
	       (unsigned long long)n, (unsigned long long)tot.faults,
	       (unsigned long long)tot.committed, (unsigned long long)tot.elections,
	       (unsigned long long)bad);
	if (g_stats)
		print_stats(&tot);
	if (expect)
		return bad ? 0 : 1;
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	bool trace = false, expect = false;
	unsigned faults = parse_faults(argc, argv, &trace, &expect);
	if (argc >= 4 && !strcmp(argv[1], "swarm")) {
		uint64_t from = strtoull(argv[2], NULL, 10), count = strtoull(argv[3], NULL, 10);
		const char *env = getenv("ZABD_SIM_SEEDS");
		if (env && *env)
			count = strtoull(env, NULL, 10);
		return cmd_swarm(from, count, faults, expect);
	}
	if (argc >= 3 && !strcmp(argv[1], "seed")) {
		uint64_t seed = strtoull(argv[2], NULL, 10);
		struct swarm_result r = swarm_run(seed, faults, trace);
		printf("%s\n", r.ok ? "ok" : r.violation);
		printf("sim: seeds=1 faults=%llu committed=%llu elections=%llu violations=%d\n",
		       (unsigned long long)r.st.faults, (unsigned long long)r.st.committed,
		       (unsigned long long)r.st.elections, r.ok ? 0 : 1);
		return r.ok ? 0 : 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "scenario")) {
		int r = scenarios_run(argv[2], trace, faults);
		if (!expect)
			return r;
		/* faulty build: the scenario must fail on a checker's violation */
		printf("%s\n", scenarios_violation()[0] ? scenarios_violation() : "no violation");
		return r == 1 && scenarios_violation()[0] ? 0 : 1;
	}
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		scenarios_list();
		return 0;
	}
	fprintf(stderr, "usage: zabsim swarm FROM COUNT | seed N [--trace] | scenario NAME|all | list\n");
	return 2;
}
