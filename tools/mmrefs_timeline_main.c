// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-alone driver for mmrefs_timeline() until the `mmrefs timeline`
 * subcommand calls it: scripts/timeline-check builds it on the host.
 *
 * Usage: mmrefs-timeline [-t TITLE] [-o OUT.svg] [HISTORY]
 * (stdin and stdout when not given).  Exit: 0, 1 input refused, 2 usage.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mmrefs_timeline.h"

int main(int argc, char **argv)
{
	const char *title = NULL, *outname = NULL;
	FILE *in = stdin, *out = stdout;
	int c, ret;

	while ((c = getopt(argc, argv, "t:o:")) != -1) {
		switch (c) {
		case 't':
			title = optarg;
			break;
		case 'o':
			outname = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-t TITLE] [-o OUT.svg] [HISTORY]\n",
				argv[0]);
			return 2;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "%s: one input file at most\n", argv[0]);
		return 2;
	}
	if (optind == argc - 1) {
		in = fopen(argv[optind], "r");
		if (!in) {
			perror(argv[optind]);
			return 1;
		}
		if (!title)
			title = argv[optind];
	}
	if (outname) {
		out = fopen(outname, "w");
		if (!out) {
			perror(outname);
			return 1;
		}
	}
	ret = mmrefs_timeline(in, out, title);
	if (out != stdout && fclose(out)) {
		perror(outname);
		ret = -1;
	}
	/* no half-written drawing is left behind for a refused input */
	if (ret && outname)
		unlink(outname);
	return ret ? 1 : 0;
}
