#include <linux/module.h>
#define INCLUDE_VERMAGIC
#include <linux/build-salt.h>
#include <linux/elfnote-lto.h>
#include <linux/export-internal.h>
#include <linux/vermagic.h>
#include <linux/compiler.h>

BUILD_SALT;
BUILD_LTO_INFO;

MODULE_INFO(vermagic, VERMAGIC_STRING);
MODULE_INFO(name, KBUILD_MODNAME);

__visible struct module __this_module
__section(".gnu.linkonce.this_module") = {
	.name = KBUILD_MODNAME,
	.init = init_module,
#ifdef CONFIG_MODULE_UNLOAD
	.exit = cleanup_module,
#endif
	.arch = MODULE_ARCH_INIT,
};

#ifdef CONFIG_RETPOLINE
MODULE_INFO(retpoline, "Y");
#endif


static const struct modversion_info ____versions[]
__used __section("__versions") = {
	{ 0x88db9f48, "__check_object_size" },
	{ 0x91c14d8d, "param_ops_uint" },
	{ 0x13c49cc2, "_copy_from_user" },
	{ 0x8d522714, "__rcu_read_lock" },
	{ 0x35251613, "trace_raw_output_prep" },
	{ 0x48d88a2c, "__SCT__preempt_schedule" },
	{ 0x5d6edbac, "__trace_trigger_soft_disabled" },
	{ 0x6721222, "trace_event_printf" },
	{ 0x96848186, "scnprintf" },
	{ 0x53569707, "this_cpu_off" },
	{ 0x874cdd20, "trace_event_raw_init" },
	{ 0xe6570985, "trace_print_symbols_seq" },
	{ 0x69acdf38, "memcpy" },
	{ 0x3b6c41ea, "kstrtouint" },
	{ 0x37a0cba, "kfree" },
	{ 0xdef3fb11, "seq_lseek" },
	{ 0xe6caaf7b, "bpf_trace_run2" },
	{ 0x7e617684, "kmem_cache_create" },
	{ 0x34db050b, "_raw_spin_lock_irqsave" },
	{ 0xb19a5453, "__per_cpu_offset" },
	{ 0xba8fbd64, "_raw_spin_lock" },
	{ 0xcbd4898c, "fortify_panic" },
	{ 0xbdfb6dbb, "__fentry__" },
	{ 0x3663fafd, "trace_event_buffer_commit" },
	{ 0x65487097, "__x86_indirect_thunk_rax" },
	{ 0x92997ed8, "_printk" },
	{ 0xa19b956, "__stack_chk_fail" },
	{ 0xa916b694, "strnlen" },
	{ 0x549dfa15, "kmem_cache_alloc" },
	{ 0x9f984513, "strrchr" },
	{ 0x59bd07d3, "init_task" },
	{ 0x599fb41c, "kvmalloc_node" },
	{ 0xad5f0017, "perf_trace_buf_alloc" },
	{ 0x9fd5aac9, "perf_trace_run_bpf_submit" },
	{ 0x8c8569cb, "kstrtoint" },
	{ 0xa07a37f0, "memchr" },
	{ 0x2469810f, "__rcu_read_unlock" },
	{ 0x4dfa8d4b, "mutex_lock" },
	{ 0xfbb8a761, "strscpy_pad" },
	{ 0xaffab678, "kmem_cache_free" },
	{ 0xedd0b017, "debugfs_remove" },
	{ 0x5a921311, "strncmp" },
	{ 0x2a21f8a, "seq_putc" },
	{ 0x50adaa18, "unregister_kretprobe" },
	{ 0xb6fc148b, "trace_event_reg" },
	{ 0x53a1e8d9, "_find_next_bit" },
	{ 0x5a5a2271, "__cpu_online_mask" },
	{ 0xbcab6ee6, "sscanf" },
	{ 0xd5ef8589, "__seq_open_private" },
	{ 0x68fb37ae, "current_task" },
	{ 0xd35cce70, "_raw_spin_unlock_irqrestore" },
	{ 0x7ad86aef, "default_llseek" },
	{ 0x9e683f75, "__cpu_possible_mask" },
	{ 0xfb578fc5, "memset" },
	{ 0x5b8239ca, "__x86_return_thunk" },
	{ 0x17de3d5, "nr_cpu_ids" },
	{ 0x661601de, "sprint_symbol" },
	{ 0x22adf505, "pv_ops" },
	{ 0x1db3ba77, "seq_read" },
	{ 0xdd64e639, "strscpy" },
	{ 0x1ac5d3cb, "strcspn" },
	{ 0x7a2af7b4, "cpu_number" },
	{ 0x4629334c, "__preempt_count" },
	{ 0x28aa6a67, "call_rcu" },
	{ 0x59edad5e, "debugfs_create_file" },
	{ 0xbaf22757, "kvfree_call_rcu" },
	{ 0xcb53ee9a, "trace_event_buffer_reserve" },
	{ 0x3213f038, "mutex_unlock" },
	{ 0xb43f9365, "ktime_get" },
	{ 0xf0949581, "seq_printf" },
	{ 0xfcca5424, "register_kprobe" },
	{ 0xacfde3ae, "register_kretprobe" },
	{ 0x5caf31dc, "seq_puts" },
	{ 0xc7c7a019, "single_release" },
	{ 0x63026490, "unregister_kprobe" },
	{ 0x27249243, "seq_release_private" },
	{ 0x606e9d01, "kmalloc_trace" },
	{ 0x60a13e90, "rcu_barrier" },
	{ 0x7aa1756e, "kvfree" },
	{ 0x688e72e1, "__SCT__preempt_schedule_notrace" },
	{ 0xc941a41a, "single_open" },
	{ 0xf4316fcd, "debugfs_create_dir" },
	{ 0xb5b54b34, "_raw_spin_unlock" },
	{ 0x619cb7dd, "simple_read_from_buffer" },
	{ 0x8b3494ff, "trace_handle_return" },
	{ 0xeb233a45, "__kmalloc" },
	{ 0x7a7caba8, "kmalloc_caches" },
	{ 0x137065ed, "kmem_cache_destroy" },
	{ 0x9a1dfd65, "strpbrk" },
	{ 0x9060323f, "module_layout" },
};

MODULE_INFO(depends, "");

