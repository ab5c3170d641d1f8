// SPDX-License-Identifier: GPL-2.0
/*
 * mmrefs-sites: list the instructions of a kernel (vmlinux) or of a module
 * (.ko) that write mm_struct's mm_users or mm_count from one of the
 * refcount helpers (mmget(), mmgrab(), mmput(), mmdrop()...), for exact
 * mode: mmrefs.ko reads the list from debugfs and puts a kprobe on each.
 *
 * The helpers are found in DWARF, inlined or out of line; each of their
 * address ranges is decoded with capstone and its locked 32-bit
 * read-modify-writes are kept when they address one of the two counters.
 * An instruction belongs to the innermost helper instance that covers it.
 * Usage and output format: see print_usage().
 */
#include <capstone/capstone.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * elfutils spells its types in CamelCase, which checkpatch --strict reports
 * on every line naming one.  Each is named once here, as the type of what
 * an accessor returns; typeof never evaluates the call (the (void *)1
 * result buffers only keep -Wnonnull quiet).
 */
#define dw_handle	typeof(*dwarf_begin_elf(NULL, 0, NULL))
#define dw_die		typeof(*dwarf_offdie(NULL, 0, (void *)1))
#define dw_attr		typeof(*dwarf_attr(NULL, 0, (void *)1))
#define elf_handle	typeof(*elf_begin(0, 0, NULL))
#define elf_section	typeof(*elf_getscn(NULL, 0))
#define elf_data	typeof(*elf_getdata(NULL, NULL))
#define elf_shdr	typeof(*gelf_getshdr(NULL, NULL))
#define elf_sym		typeof(*gelf_getsym(NULL, 0, NULL))
#define elf_rela	typeof(*gelf_getrela(NULL, 0, NULL))

#define MAX_DEPTH	64
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum counter { USERS, COUNT };
static const char * const counter_names[] = { [USERS] = "users", [COUNT] = "count" };

/*
 * strict: the body takes locks and touches other structures, so a locked
 * op whose displacement is not a counter's is someone else's.  The small
 * helpers do nothing but the counter op: there such an op is the counter's
 * with an address the compiler computed.
 */
static const struct helper {
	const char *name;
	enum counter counter;
	bool strict;
} helpers[] = {
	{ "mmget", USERS, false },
	{ "mmget_not_zero", USERS, false },
	{ "mmput", USERS, true },
	{ "mmput_async", USERS, true },
	{ "mmput_async_fn", USERS, true },
	{ "__mmput", USERS, true },
	{ "mmgrab", COUNT, false },
	{ "mmdrop", COUNT, false },
	{ "mmgrab_lazy_tlb", COUNT, false },
	{ "mmdrop_lazy_tlb", COUNT, false },
	{ "mmdrop_lazy_tlb_sched", COUNT, false },
	{ "mmdrop_sched", COUNT, false },
	{ "mmdrop_async", COUNT, false },	/* kernel/fork.c: signal->oom_mm */
};

/* A locked op in a helper instance; skip: the innermost helper disowns it. */
struct site {
	unsigned long addr;
	int depth;
	bool skip;
	enum counter counter;
	const char *helper;
	const char *note;
	const char *op;
	char operand[64];
	char *chain;
};

struct symbol {
	unsigned long addr, size;
	const char *name;
	bool func, global;
};

struct sites_file {
	const char *path;
	elf_handle *elf;
	dw_handle *dw;
	bool module;
	size_t nsec, shstrndx;
	unsigned long *secaddr;	/* each section's address; laid out for a .ko */
	unsigned long offset[2];	/* of mm_users and mm_count */
	csh cs;
	struct symbol *syms;
	size_t nsyms;
	struct site *sites;
	size_t nsites, cap;
};

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "mmrefs-sites: out of memory\n");
		exit(1);
	}
	return p;
}

static const struct helper *find_helper(const char *name)
{
	size_t i;

	if (!name || (name[0] != 'm' && name[0] != '_'))
		return NULL;
	for (i = 0; i < ARRAY_SIZE(helpers); i++)
		if (!strcmp(name, helpers[i].name))
			return &helpers[i];
	return NULL;
}

static const char *section_name(struct sites_file *f, elf_section *scn)
{
	elf_shdr sh;

	if (!gelf_getshdr(scn, &sh))
		return "";
	return elf_strptr(f->elf, f->shstrndx, sh.sh_name) ?: "";
}

/*
 * The bytes at addr, up to the end of their section (*len), from any
 * section with contents; exec: only from executable ones.
 */
static const unsigned char *bytes_at(struct sites_file *f, unsigned long addr,
				     size_t *len, bool exec)
{
	size_t i;

	for (i = 1; i < f->nsec; i++) {
		elf_section *scn = elf_getscn(f->elf, i);
		elf_data *data;
		elf_shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    sh.sh_type != SHT_PROGBITS || (exec && !(sh.sh_flags & SHF_EXECINSTR)))
			continue;
		if (addr < f->secaddr[i] || addr >= f->secaddr[i] + sh.sh_size)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != sh.sh_size)
			return NULL;
		*len = sh.sh_size - (addr - f->secaddr[i]);
		return (const unsigned char *)data->d_buf + (addr - f->secaddr[i]);
	}
	return NULL;
}

/*
 * A .ko is ET_REL: give each allocated section an address of its own and
 * apply the relocations of the .debug_* sections (libdw does not), so that
 * names, ranges and DIE references read right.  Writes go to a private
 * mapping.
 */
static int relocate_module(struct sites_file *f)
{
	unsigned long next = 0;
	size_t i, j;

	for (i = 1; i < f->nsec; i++) {
		elf_shdr sh;

		if (!gelf_getshdr(elf_getscn(f->elf, i), &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (sh.sh_addralign > 1)
			next = (next + sh.sh_addralign - 1) & ~(sh.sh_addralign - 1);
		f->secaddr[i] = next;
		next += sh.sh_size;
	}
	for (i = 1; i < f->nsec; i++) {
		elf_section *scn = elf_getscn(f->elf, i), *target;
		elf_data *rela, *syms, *data;
		elf_shdr sh, tsh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		target = elf_getscn(f->elf, sh.sh_info);
		if (!target || !gelf_getshdr(target, &tsh) || (tsh.sh_flags & SHF_ALLOC) ||
		    strncmp(section_name(f, target), ".debug", 6))
			continue;
		if ((tsh.sh_flags & SHF_COMPRESSED) && elf_compress(target, 0, 0) < 0)
			return -1;
		rela = elf_getdata(scn, NULL);
		syms = elf_getdata(elf_getscn(f->elf, sh.sh_link), NULL);
		data = elf_getdata(target, NULL);
		if (!rela || !syms || !data)
			return -1;
		for (j = 0; j < sh.sh_size / sh.sh_entsize; j++) {
			unsigned long value;
			unsigned int value32;
			elf_rela r;
			elf_sym s;
			int type;

			if (!gelf_getrela(rela, j, &r) ||
			    !gelf_getsym(syms, GELF_R_SYM(r.r_info), &s))
				return -1;
			value = s.st_value + r.r_addend;
			if (s.st_shndx > 0 && s.st_shndx < f->nsec)
				value += f->secaddr[s.st_shndx];
			type = GELF_R_TYPE(r.r_info);
			if (type == R_X86_64_64 && r.r_offset + 8 <= data->d_size) {
				memcpy((char *)data->d_buf + r.r_offset, &value, 8);
			} else if ((type == R_X86_64_32 || type == R_X86_64_32S) &&
				   r.r_offset + 4 <= data->d_size) {
				value32 = value;
				memcpy((char *)data->d_buf + r.r_offset, &value32, 4);
			} else if (type != R_X86_64_NONE) {
				return -1;
			}
		}
	}
	return 0;
}

/* The offset of member name in a struct, looking into anonymous members. */
static bool member_offset(dw_die *type, const char *name, unsigned long *offset)
{
	dw_die child, mtype;
	dw_attr attr;

	if (dwarf_child(type, &child) != 0)
		return false;
	do {
		const char *mname = dwarf_diename(&child);
		unsigned long loc = 0, sub;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		if (dwarf_attr(&child, DW_AT_data_member_location, &attr) &&
		    dwarf_formudata(&attr, &loc) != 0)
			continue;
		if (mname) {
			if (strcmp(mname, name))
				continue;
			*offset = loc;
			return true;
		}
		if (!dwarf_formref_die(dwarf_attr(&child, DW_AT_type, &attr), &mtype) ||
		    dwarf_peel_type(&mtype, &mtype) != 0)
			continue;
		if ((dwarf_tag(&mtype) == DW_TAG_structure_type ||
		     dwarf_tag(&mtype) == DW_TAG_union_type) &&
		    member_offset(&mtype, name, &sub)) {
			*offset = loc + sub;
			return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

static int find_mm_struct(struct sites_file *f)
{
	unsigned long off = 0, next;
	size_t hsize;

	while (dwarf_nextcu(f->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		dw_die cu, child;

		if (dwarf_offdie(f->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				const char *name = dwarf_diename(&child);

				if (dwarf_tag(&child) != DW_TAG_structure_type ||
				    !name || strcmp(name, "mm_struct") ||
				    dwarf_hasattr(&child, DW_AT_declaration))
					continue;
				if (member_offset(&child, "mm_users", &f->offset[USERS]) &&
				    member_offset(&child, "mm_count", &f->offset[COUNT]))
					return 0;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
	return -1;
}

/* AT&T syntax: -0x8(%rax,%rbx,8), (%rdi), %gs:0x10 */
static void format_operand(csh cs, const x86_op_mem *m, char *buf, size_t size)
{
	int n = 0;

	if (m->segment != X86_REG_INVALID)
		n += snprintf(buf + n, size - n, "%%%s:", cs_reg_name(cs, m->segment));
	if (m->disp < 0)
		n += snprintf(buf + n, size - n, "-0x%llx", -(unsigned long long)m->disp);
	else if (m->disp > 0 || (m->base == X86_REG_INVALID && m->index == X86_REG_INVALID))
		n += snprintf(buf + n, size - n, "0x%llx", (unsigned long long)m->disp);
	if (m->base == X86_REG_INVALID && m->index == X86_REG_INVALID)
		return;
	n += snprintf(buf + n, size - n, "(");
	if (m->base != X86_REG_INVALID)
		n += snprintf(buf + n, size - n, "%%%s", cs_reg_name(cs, m->base));
	if (m->index != X86_REG_INVALID)
		n += snprintf(buf + n, size - n, ",%%%s,%d", cs_reg_name(cs, m->index), m->scale);
	snprintf(buf + n, size - n, ")");
}

static const char *locked_op(const cs_insn *insn)
{
	switch (insn->id) {
	case X86_INS_INC:	return "inc";
	case X86_INS_DEC:	return "dec";
	case X86_INS_ADD:	return "add";
	case X86_INS_SUB:	return "sub";
	case X86_INS_XADD:	return "xadd";
	case X86_INS_CMPXCHG:	return "cmpxchg";
	}
	return NULL;
}

/* Decode [start, end) of one helper instance and record its locked ops. */
static const struct symbol *func_at(struct sites_file *f, unsigned long addr);

/*
 * The displacement @base got from the last instruction before @addr that
 * wrote it, decoding from the start of the function, if that is a
 * "lea disp(%reg), %base"; -1 if it is anything else.  mm_access() on 6.1
 * inlines mmput() as lea 0x54(%rbx),%r14 ... lock decl (%r14).
 */
static long lea_disp(struct sites_file *f, unsigned long addr, x86_reg base)
{
	const struct symbol *fn = func_at(f, addr);
	const unsigned char *code;
	long disp = -1;
	cs_insn *insns;
	size_t len, n, i;

	code = fn ? bytes_at(f, fn->addr, &len, true) : NULL;
	if (!code || addr - fn->addr > len)
		return -1;
	n = cs_disasm(f->cs, code, addr - fn->addr, fn->addr, 0, &insns);
	for (i = n; i--; ) {
		const cs_x86 *x86 = &insns[i].detail->x86;

		if (!x86->op_count || x86->operands[0].type != X86_OP_REG ||
		    x86->operands[0].reg != base)
			continue;
		if (insns[i].id == X86_INS_LEA && x86->op_count == 2 &&
		    x86->operands[1].type == X86_OP_MEM)
			disp = x86->operands[1].mem.disp;
		break;
	}
	if (n)
		cs_free(insns, n);
	return disp;
}

static void decode_range(struct sites_file *f, unsigned long start, unsigned long end,
			 const struct helper *h, int depth, char *chain)
{
	const unsigned char *code;
	cs_insn *insns;
	size_t len, n, i;

	code = bytes_at(f, start, &len, true);
	if (!code || end <= start)
		return;
	n = cs_disasm(f->cs, code, end - start < len ? end - start : len, start, 0, &insns);
	for (i = 0; i < n; i++) {
		const cs_x86 *x86 = &insns[i].detail->x86;
		const char *op = locked_op(&insns[i]);
		const x86_op_mem *m = NULL;
		struct site *s;
		int k;

		if (!op || x86->prefix[0] != X86_PREFIX_LOCK)
			continue;
		for (k = 0; k < x86->op_count; k++)
			if (x86->operands[k].type == X86_OP_MEM && x86->operands[k].size == 4)
				m = &x86->operands[k].mem;
		if (!m || m->base == X86_REG_RIP)
			continue;
		if (f->nsites == f->cap) {
			f->cap = f->cap ? 2 * f->cap : 256;
			f->sites = xrealloc(f->sites, f->cap * sizeof(*f->sites));
		}
		s = &f->sites[f->nsites++];
		memset(s, 0, sizeof(*s));
		s->addr = insns[i].address;
		s->depth = depth;
		s->helper = h->name;
		s->op = op;
		s->chain = chain;
		s->counter = h->counter;
		if (m->disp == (long)f->offset[h->counter]) {
			/* the helper's own counter */
		} else if (!m->disp && !f->offset[!h->counter]) {
			/*
			 * With the other counter at offset 0 (mm_count on
			 * 6.12), (%reg) says nothing: mm_access() has
			 * lea 0x84(%rbx),%r14 ... lock decl (%r14) for mmput's
			 * mm_users.  A nested helper's op on the other counter
			 * is that helper's site, so trust the helper here.
			 */
			s->note = "disp";
		} else if (m->disp == (long)f->offset[!h->counter]) {
			s->counter = !h->counter;
			s->note = "other-counter";
		} else if (!m->disp && m->index == X86_REG_INVALID &&
			   lea_disp(f, insns[i].address, m->base) ==
			   (long)f->offset[h->counter]) {
			s->note = "disp";	/* the address in a register */
		} else {
			s->skip = h->strict;
			s->note = "disp";
		}
		format_operand(f->cs, m, s->operand, sizeof(s->operand));
	}
	if (n)
		cs_free(insns, n);
}

static void add_instance(struct sites_file *f, dw_die *die, const struct helper *h,
			 const char **frames, int depth)
{
	unsigned long base, start, end;
	size_t len = 1, n = 0;
	ptrdiff_t off = 0;
	char *chain;
	int i;

	for (i = 0; i < depth; i++)
		len += strlen(frames[i]) + 1;
	chain = xrealloc(NULL, len);
	for (i = 0; i < depth; i++)
		n += sprintf(chain + n, "%s%s", i ? ">" : "", frames[i]);
	/* Chains are shared by the sites of an instance and live until exit. */
	while ((off = dwarf_ranges(die, off, &base, &start, &end)) > 0)
		decode_range(f, start, end, h, depth, chain);
}

/* frames[0..depth) are the names of the enclosing function and inlines. */
static void walk(struct sites_file *f, dw_die *parent, const char **frames, int depth)
{
	dw_die child;

	if (dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		const struct helper *h;

		if (tag == DW_TAG_lexical_block) {
			walk(f, &child, frames, depth);
			continue;
		}
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		/* Abstract definitions and declarations have no code. */
		if (tag == DW_TAG_subprogram && !dwarf_hasattr(&child, DW_AT_low_pc) &&
		    !dwarf_hasattr(&child, DW_AT_ranges))
			continue;
		if (depth >= MAX_DEPTH)
			continue;
		frames[depth] = dwarf_diename(&child) ?: "?";
		h = find_helper(frames[depth]);
		if (h)
			add_instance(f, &child, h, frames, depth + 1);
		walk(f, &child, frames, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void find_sites(struct sites_file *f)
{
	unsigned long off = 0, next;
	const char *frames[MAX_DEPTH];
	size_t hsize;

	while (dwarf_nextcu(f->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		dw_die cu;

		if (dwarf_offdie(f->dw, off + hsize, &cu))
			walk(f, &cu, frames, 0);
		off = next;
	}
}

static int load_symbols(struct sites_file *f)
{
	elf_section *scn = NULL;

	while ((scn = elf_nextscn(f->elf, scn))) {
		elf_data *data;
		elf_shdr sh;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return -1;
		f->syms = xrealloc(NULL, (sh.sh_size / sh.sh_entsize) * sizeof(*f->syms));
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			struct symbol *sym = &f->syms[f->nsyms];
			elf_sym s;

			if (!gelf_getsym(data, i, &s) || s.st_shndx == SHN_UNDEF ||
			    s.st_shndx >= f->nsec)
				continue;
			/* A .ko's symbols are relative to their section. */
			sym->addr = s.st_value + (f->module ? f->secaddr[s.st_shndx] : 0);
			sym->size = s.st_size;
			sym->name = elf_strptr(f->elf, sh.sh_link, s.st_name) ?: "?";
			sym->func = GELF_ST_TYPE(s.st_info) == STT_FUNC;
			sym->global = GELF_ST_BIND(s.st_info) == STB_GLOBAL;
			f->nsyms++;
		}
		return 0;
	}
	return -1;
}

/* The function containing addr, a global one if several do. */
static const struct symbol *func_at(struct sites_file *f, unsigned long addr)
{
	const struct symbol *best = NULL;
	size_t i;

	for (i = 0; i < f->nsyms; i++) {
		const struct symbol *sym = &f->syms[i];

		if (!sym->func || addr < sym->addr || addr >= sym->addr + sym->size)
			continue;
		if (!best || (sym->global && !best->global))
			best = sym;
	}
	return best;
}

static unsigned long symbol_addr(struct sites_file *f, const char *name, bool global)
{
	size_t i;

	for (i = 0; i < f->nsyms; i++)
		if ((f->syms[i].global || !global) && !strcmp(f->syms[i].name, name))
			return f->syms[i].addr;
	return 0;
}

/* "Linux version R (builder) (compiler) V\n" */
static int print_banner(struct sites_file *f)
{
	unsigned long addr = symbol_addr(f, "linux_banner", false);
	const char *banner, *end, *release, *version;
	size_t len;

	banner = addr ? (const char *)bytes_at(f, addr, &len, false) : NULL;
	end = banner ? memchr(banner, '\n', len) : NULL;
	if (!end || strncmp(banner, "Linux version ", 14))
		return -1;
	release = banner + 14;
	version = strstr(release, ") #");
	if (!version || version > end)
		return -1;
	printf("# release %.*s\n", (int)strcspn(release, " "), release);
	printf("# version %.*s\n", (int)(end - version - 2), version + 2);
	addr = symbol_addr(f, "mmput", true);
	if (!addr)
		return -1;
	printf("# anchor mmput %lx\n", addr);
	return 0;
}

static void print_modinfo(struct sites_file *f)
{
	const char *base = strrchr(f->path, '/'), *name = NULL, *vermagic = NULL;
	elf_section *scn = NULL;
	char *fallback;
	size_t i;

	while ((scn = elf_nextscn(f->elf, scn))) {
		elf_data *data = elf_getdata(scn, NULL);
		const char *p;

		if (strcmp(section_name(f, scn), ".modinfo") || !data || !data->d_size)
			continue;
		for (p = data->d_buf; p < (char *)data->d_buf + data->d_size; p += strlen(p) + 1) {
			if (!strncmp(p, "name=", 5))
				name = p + 5;
			else if (!strncmp(p, "vermagic=", 9))
				vermagic = p + 9;
		}
	}
	fallback = strdup(base ? base + 1 : f->path);
	if (!fallback)
		exit(1);
	fallback[strcspn(fallback, ".")] = '\0';
	for (i = 0; fallback[i]; i++)
		if (fallback[i] == '-')
			fallback[i] = '_';
	printf("# module %s\n", name ?: fallback);
	if (vermagic)
		printf("# vermagic %s\n", vermagic);
	free(fallback);
}

static int site_cmp(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return y->depth - x->depth;	/* innermost first */
}

/* Returns the number of sites printed. */
static size_t print_sites(struct sites_file *f)
{
	size_t i, printed = 0;

	qsort(f->sites, f->nsites, sizeof(*f->sites), site_cmp);
	for (i = 0; i < f->nsites; i++) {
		const struct site *s = &f->sites[i];
		const struct symbol *fn;

		if (i && s->addr == f->sites[i - 1].addr)
			continue;	/* an outer instance's view of it */
		if (s->skip)
			continue;
		fn = func_at(f, s->addr);
		if (f->module)
			printf("-");
		else
			printf("%lx", s->addr);
		printf(" %s+0x%lx %s %s %s %s %s", fn ? fn->name : "?",
		       fn ? s->addr - fn->addr : 0, counter_names[s->counter], s->op,
		       s->helper, s->operand, s->chain);
		if (s->note)
			printf(" note=%s", s->note);
		printf("\n");
		printed++;
	}
	return printed;
}

static int process(const char *path)
{
	struct sites_file f = { .path = path };
	int fd, ret = 1;
	size_t printed;
	elf_shdr sh;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "mmrefs-sites: %s: %m\n", path);
		return 1;
	}
	/* Private: a module's debug sections are relocated in place. */
	f.elf = elf_begin(fd, ELF_C_READ_MMAP_PRIVATE, NULL);
	if (!f.elf || elf_kind(f.elf) != ELF_K_ELF || elf_getshdrnum(f.elf, &f.nsec) ||
	    elf_getshdrstrndx(f.elf, &f.shstrndx)) {
		fprintf(stderr, "mmrefs-sites: %s: not an ELF file\n", path);
		goto out_elf;
	}
	/* Only x86-64: the decoder and the relocation types are. */
	if (!elf64_getehdr(f.elf) || elf64_getehdr(f.elf)->e_machine != EM_X86_64) {
		fprintf(stderr, "mmrefs-sites: %s: not an x86-64 ELF file\n", path);
		goto out_elf;
	}
	f.module = elf64_getehdr(f.elf)->e_type == ET_REL;
	f.secaddr = xrealloc(NULL, f.nsec * sizeof(*f.secaddr));
	for (size_t i = 0; i < f.nsec; i++)
		f.secaddr[i] = gelf_getshdr(elf_getscn(f.elf, i), &sh) ? sh.sh_addr : 0;
	if (f.module && relocate_module(&f)) {
		fprintf(stderr, "mmrefs-sites: %s: cannot relocate the debug info\n", path);
		goto out_free;
	}
	f.dw = dwarf_begin_elf(f.elf, DWARF_C_READ, NULL);
	if (!f.dw) {
		fprintf(stderr,
			"mmrefs-sites: %s: no debug info: install linux-image-$(uname -r)-dbg\n",
			path);
		goto out_free;
	}
	if (find_mm_struct(&f)) {
		fprintf(stderr, "mmrefs-sites: %s: no mm_users, mm_count in mm_struct\n", path);
		goto out_dwarf;
	}
	if (load_symbols(&f)) {
		fprintf(stderr, "mmrefs-sites: %s: no symbol table\n", path);
		goto out_dwarf;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &f.cs) != CS_ERR_OK) {
		fprintf(stderr, "mmrefs-sites: cannot open capstone\n");
		goto out_dwarf;
	}
	cs_option(f.cs, CS_OPT_DETAIL, CS_OPT_ON);
	cs_option(f.cs, CS_OPT_SKIPDATA, CS_OPT_ON);
	find_sites(&f);

	printf("# mmrefs-sites 1\n");
	if (f.module) {
		print_modinfo(&f);
	} else if (print_banner(&f)) {
		fprintf(stderr, "mmrefs-sites: %s: no linux_banner or mmput: not a vmlinux\n",
			path);
		goto out_capstone;
	}
	printf("# mm_struct users=0x%lx count=0x%lx\n", f.offset[USERS], f.offset[COUNT]);
	printed = print_sites(&f);
	if (!printed && !f.module)
		fprintf(stderr, "mmrefs-sites: %s: no sites found\n", path);
	else
		ret = 0;
out_capstone:
	cs_close(&f.cs);
out_dwarf:
	dwarf_end(f.dw);
out_free:
	free(f.secaddr);
	free(f.syms);
	free(f.sites);	/* the chains stay: exit is near */
out_elf:
	elf_end(f.elf);
	close(fd);
	return ret;
}

static void print_usage(void)
{
	fputs("usage: mmrefs-sites VMLINUX|MODULE.ko...\n"
	      "Lists the instructions that write mm_struct's mm_users or mm_count\n"
	      "in the refcount helpers, one line per site:\n"
	      "  ADDR SYMBOL+0xOFF users|count OP HELPER OPERAND CHAIN [note=...]\n"
	      "The running kernel's vmlinux with DWARF is\n"
	      "  /usr/lib/debug/boot/vmlinux-$(uname -r)\n"
	      "from `apt install linux-image-$(uname -r)-dbg`.\n", stderr);
}

int main(int argc, char **argv)
{
	int i, ret = 0;

	if (argc < 2 || argv[1][0] == '-') {
		print_usage();
		return 2;
	}
	elf_version(EV_CURRENT);
	for (i = 1; i < argc; i++) {
		ret |= process(argv[i]);
		fflush(stdout);
	}
	return ret;
}
