/* A QEMU TCG plugin (plugin API v1, QEMU 7.2) counting executed guest instructions
 * between marker functions. Arguments come in pairs, `start=ADDR,stop=ADDR`, up to eight
 * of them: pair K opens a region whenever the instruction at its start address executes
 * and closes it at its stop address, printing "insncount: pair K region N: COUNT insns"
 * to QEMU's log (-d plugin). Pairs count independently, so regions may nest (one
 * inference around the layers of a profile). The nine API functions it uses are declared
 * here, so it builds with the host C compiler alone (Debian ships no qemu-plugin.h).
 * Written for utc from the facts in ../shared/CORTEX-M.md. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
  const char *target_name;
  struct {
    int min, cur;
  } version;
  bool system_emulation;
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int, void *);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op,
                                              void *, uint64_t);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *,
                                            qemu_plugin_vcpu_udata_cb_t,
                                            enum qemu_plugin_cb_flags, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, qemu_plugin_udata_cb_t, void *);
void qemu_plugin_outs(const char *);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

#define MAX_PAIRS 8

static uint64_t executed;
static struct pair {
  uint64_t start_pc, stop_pc, region_start;
  int regions;
} pairs[MAX_PAIRS];
static int npairs, nstops;

static void on_start(unsigned int vcpu, void *data) {
  (void)vcpu;
  ((struct pair *)data)->region_start = executed;
}

static void on_stop(unsigned int vcpu, void *data) {
  (void)vcpu;
  struct pair *p = data;
  char line[112];
  snprintf(line, sizeof line, "insncount: pair %d region %d: %" PRIu64 " insns\n",
           (int)(p - pairs), ++p->regions, executed - p->region_start);
  qemu_plugin_outs(line);
}

/* A translation block adds its instruction count on entry (inline, cheap); the marker
 * addresses get a callback. Exact for code without exceptions or interrupts. */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    for (int k = 0; k < npairs; k++) {
      if (pc == pairs[k].start_pc)
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, &pairs[k]);
      if (pc == pairs[k].stop_pc)
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, &pairs[k]);
    }
  }
}

static void on_exit_(qemu_plugin_id_t id, void *data) {
  (void)id;
  (void)data;
  char line[64];
  snprintf(line, sizeof line, "insncount: total: %" PRIu64 " insns\n", executed);
  qemu_plugin_outs(line);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                               char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    /* addresses lose the Thumb bit; a stop must follow its start */
    if (!strncmp(argv[i], "start=", 6) && npairs == nstops && npairs < MAX_PAIRS)
      pairs[npairs++] = (struct pair){strtoull(argv[i] + 6, NULL, 0) & ~1ull, UINT64_MAX, 0, 0};
    else if (!strncmp(argv[i], "stop=", 5) && nstops + 1 == npairs)
      pairs[nstops++].stop_pc = strtoull(argv[i] + 5, NULL, 0) & ~1ull;
    else
      return -1;
  }
  if (npairs != nstops) return -1;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_, NULL);
  return 0;
}
