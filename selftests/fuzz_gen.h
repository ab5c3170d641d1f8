/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs_fuzz's input generator: the PRNG (splitmix64, seeded from
 * MMREFS_FUZZ_SEED) and the writes it makes of it, valid commands and
 * mutated, partial, token-soup, text, binary, boundary-sized and
 * oversized ones, each with a way to deliver it (write, pwrite, a seek
 * first, or a buffer the kernel cannot read). What each write must get
 * is fuzz_model's business; the generator only reads the model's state
 * to aim its valid commands (the waiters, the armed watches, the mms the
 * fuzzer owns).
 */
#ifndef FUZZ_GEN_H
#define FUZZ_GEN_H

#include <stddef.h>

#define FUZZ_SEED_DEFAULT	0x6d6d72656673ULL	/* "mmrefs" */

#define PAGE			4096
#define INPUT_MAX		(3 * PAGE + 64)
/* The writer's buffer: SCRATCH_PAGES read-write, then a PROT_NONE page. */
#define SCRATCH_PAGES		4

struct fuzzer;

/* splitmix64: small, fast and the same everywhere. */
struct rng {
	unsigned long long s;
};

/* How the bytes reach the kernel. */
enum delivery {
	D_WRITE,	/* write(2) at file position 0 */
	D_PWRITE,	/* pwrite(2) at a nonzero (or negative) offset */
	D_SEEK,		/* lseek(2) away from 0, then write(2) */
	D_NULL,		/* buffer at address 0 */
	D_HOLE,		/* buffer in a PROT_NONE page */
	D_STRADDLE,	/* buffer running from mapped memory into PROT_NONE */
	D_KERNEL,	/* buffer at a kernel address */
};

extern const char * const delivery_name[];

/* One write: its bytes and how they are delivered. */
struct input {
	char data[INPUT_MAX];
	size_t len;
	enum delivery how;
	long long off;
	const char *kind;
};

/* MMREFS_FUZZ_SEED, or FUZZ_SEED_DEFAULT. */
unsigned long long fuzz_seed(void);
/* Each test and writer its own stream, derived from the seed. */
void rng_init(struct rng *r, unsigned long long stream);
/* 0..n-1 (0 if n is 0). */
unsigned int below(struct rng *r, unsigned int n);

/* Append s to the input, cut at INPUT_MAX. */
void append_str(struct input *in, const char *s);
/* The next write's bytes and kind, for the file fz->file. */
void gen_content(struct fuzzer *fz, struct input *in);
/* How the next write is delivered (may shorten a D_KERNEL input). */
void gen_delivery(struct fuzzer *fz, struct input *in);

#endif /* FUZZ_GEN_H */
