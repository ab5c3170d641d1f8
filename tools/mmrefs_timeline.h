/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmrefs timeline: one mm's history drawn as a self-contained SVG (no
 * script, no external reference), for a browser or a document.  The
 * format, the holder rules and the colours are described for users in
 * Documentation/timeline.rst; the colours are also defined here because
 * scripts/timeline-check reads them from this file to find them in a
 * rendering.
 *
 * Colours (fixed, one per thing drawn):
 *
 *   users step line          MMREFS_TL_USERS       #d62728 red
 *   count step line          MMREFS_TL_COUNT       #1f77b4 blue
 *   holder spans, by kind:
 *     thread                 MMREFS_TL_THREAD      #2ca02c green
 *     shared (users > 0)     MMREFS_TL_SHARED      #8c564b brown
 *     lazy_tlb (a CPU)       MMREFS_TL_LAZY        #9467bd purple
 *     kthread (borrower)     MMREFS_TL_KTHREAD     #ff7f0e orange
 *     proc (/proc reader)    MMREFS_TL_PROC        #17becf cyan
 *     mmget (get_task_mm)    MMREFS_TL_MMGET       #e377c2 pink
 *     observer (mmrefs)      MMREFS_TL_OBSERVER    #bcbd22 olive
 *     khugepaged             MMREFS_TL_KHUGEPAGED  #393b79 indigo
 *   unpaired mark            MMREFS_TL_UNPAIRED    #000000 black cross
 */
#ifndef MMREFS_TIMELINE_H
#define MMREFS_TIMELINE_H

#include <stdio.h>

#define MMREFS_TL_USERS		"#d62728"
#define MMREFS_TL_COUNT		"#1f77b4"
#define MMREFS_TL_THREAD	"#2ca02c"
#define MMREFS_TL_SHARED	"#8c564b"
#define MMREFS_TL_LAZY		"#9467bd"
#define MMREFS_TL_KTHREAD	"#ff7f0e"
#define MMREFS_TL_PROC		"#17becf"
#define MMREFS_TL_MMGET		"#e377c2"
#define MMREFS_TL_OBSERVER	"#bcbd22"
#define MMREFS_TL_KHUGEPAGED	"#393b79"
#define MMREFS_TL_UNPAIRED	"#000000"

/*
 * Read event lines (history format) from @in, write one SVG to @out.
 * Returns 0, or -1 after printing "LINE: why" to stderr for input it
 * cannot check (line 0: the input ended without an event).
 */
int mmrefs_timeline(FILE *in, FILE *out, const char *title);

#endif /* MMREFS_TIMELINE_H */
