/* zabsim: command line of the simulator.
 *   zabsim swarm FROM COUNT [--faults=BITS] [--expect-violation]
 *   zabsim seed N [--trace] [--faults=BITS]
 *   zabsim scenario NAME|all [--trace]
 *   zabsim list
 * A swarm run ends with exactly one summary line:
 *   sim: seeds=N faults=N committed=N elections=N violations=N
 * and every failing seed prints `seed=N <violation>` and how to replay it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

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
	}
	return f;
}

static int cmd_swarm(uint64_t from, uint64_t count, unsigned faults, bool expect)
{
	struct sim_stats tot = {0};
	uint64_t bad = 0, n = 0;
	for (uint64_t seed = from; seed < from + count; seed++) {
		struct swarm_result r = swarm_run(seed, faults, false);
		n++;
		tot.faults += r.st.faults;
		tot.committed += r.st.committed;
		tot.elections += r.st.elections;
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
	if (argc >= 3 && !strcmp(argv[1], "scenario"))
		return scenarios_run(argv[2], trace);
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		scenarios_list();
		return 0;
	}
	fprintf(stderr, "usage: zabsim swarm FROM COUNT | seed N [--trace] | scenario NAME|all | list\n");
	return 2;
}
