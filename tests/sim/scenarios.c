/* scenarios: placeholder, filled below */
#include <stdio.h>
#include <string.h>
#include "sim.h"
int scenarios_run(const char *name, bool trace) { (void)name; (void)trace; return 0; }
void scenarios_list(void) {}
