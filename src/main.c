/* zabd entry point (placeholder until the shell lands). */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "zabd: server not wired yet\n");
	return 1;
}
