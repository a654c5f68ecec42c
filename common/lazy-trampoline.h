/* SPDX-License-Identifier: Apache-2.0 */
/* The machine code behind common/lazy.h, included only by the source
 * common/gen-lazy generates (its assembler macros must precede their
 * use, and the resolver must be defined once).
 *
 * For each function F, number N:
 *   F:                 jmp *appc_lazy_slots[N]
 *   unbound N:         r11 = N; jmp resolver
 *   appc_lazy_slots[N] = unbound N, until the library is bound.
 * The resolver keeps every register a call can pass arguments in (and rax,
 * which holds the count of vector registers of a variadic call), calls
 * appc_lazy_resolve(N) and jumps where it says, with the stack as the
 * caller left it: F's caller returns straight from the library function.
 * This is the dynamic linker's own lazy PLT, one level up. */
#ifndef APPC_COMMON_LAZY_TRAMPOLINE_H
#define APPC_COMMON_LAZY_TRAMPOLINE_H

#if !defined(__x86_64__) || !defined(__ELF__)
#error "entry points are written for x86-64 ELF only: configure with --disable-lazy-libraries"
#endif

/* Indirect-branch tracking, when the build asks for it: every target of an
 * indirect jump starts with endbr64. */
#if defined(__CET__) && (__CET__ & 1)
#define APPC_LAZY_ENDBR "endbr64\n"
#else
#define APPC_LAZY_ENDBR ""
#endif

__asm__(".macro APPC_LAZY_ENTRY name, index\n"
        "  .globl \\name\n"
        "  .hidden \\name\n"
        "  .type \\name, @function\n"
        "  .p2align 4\n"
        "\\name:\n"
        "  .cfi_startproc\n"
        "  " APPC_LAZY_ENDBR "  jmp *appc_lazy_slots+8*\\index(%rip)\n"
        "  .cfi_endproc\n"
        "  .size \\name, .-\\name\n"
        ".endm\n"
        ".macro APPC_LAZY_UNBOUND index\n"
        ".Lappc_lazy_unbound_\\index:\n"
        "  " APPC_LAZY_ENDBR "  movl $\\index, %r11d\n"
        "  jmp appc_lazy_resolver\n"
        ".endm\n"
        ".macro APPC_LAZY_SLOTS_BEGIN\n"
        "  .p2align 3\n"
        "  .globl appc_lazy_slots\n"
        "  .hidden appc_lazy_slots\n"
        "  .type appc_lazy_slots, @object\n"
        "appc_lazy_slots:\n"
        ".endm\n"
        ".macro APPC_LAZY_SLOT index\n"
        "  .quad .Lappc_lazy_unbound_\\index\n"
        ".endm\n"
        /* 7 integer registers and 8 vector ones: 56 + 8 + 128 bytes keeps
         * the stack 16-aligned for the call (rbp pushed on entry). */
        ".pushsection .text\n"
        "  .p2align 4\n"
        "  .type appc_lazy_resolver, @function\n"
        "appc_lazy_resolver:\n"
        "  .cfi_startproc\n"
        "  pushq %rbp\n"
        "  .cfi_def_cfa_offset 16\n"
        "  .cfi_offset %rbp, -16\n"
        "  movq %rsp, %rbp\n"
        "  .cfi_def_cfa_register %rbp\n"
        "  subq $192, %rsp\n"
        "  movq %rdi, 0(%rsp)\n"
        "  movq %rsi, 8(%rsp)\n"
        "  movq %rdx, 16(%rsp)\n"
        "  movq %rcx, 24(%rsp)\n"
        "  movq %r8, 32(%rsp)\n"
        "  movq %r9, 40(%rsp)\n"
        "  movq %rax, 48(%rsp)\n"
        "  movaps %xmm0, 64(%rsp)\n"
        "  movaps %xmm1, 80(%rsp)\n"
        "  movaps %xmm2, 96(%rsp)\n"
        "  movaps %xmm3, 112(%rsp)\n"
        "  movaps %xmm4, 128(%rsp)\n"
        "  movaps %xmm5, 144(%rsp)\n"
        "  movaps %xmm6, 160(%rsp)\n"
        "  movaps %xmm7, 176(%rsp)\n"
        "  movq %r11, %rdi\n"
        "  call appc_lazy_resolve@PLT\n"
        "  movq %rax, %r11\n"
        "  movq 0(%rsp), %rdi\n"
        "  movq 8(%rsp), %rsi\n"
        "  movq 16(%rsp), %rdx\n"
        "  movq 24(%rsp), %rcx\n"
        "  movq 32(%rsp), %r8\n"
        "  movq 40(%rsp), %r9\n"
        "  movq 48(%rsp), %rax\n"
        "  movaps 64(%rsp), %xmm0\n"
        "  movaps 80(%rsp), %xmm1\n"
        "  movaps 96(%rsp), %xmm2\n"
        "  movaps 112(%rsp), %xmm3\n"
        "  movaps 128(%rsp), %xmm4\n"
        "  movaps 144(%rsp), %xmm5\n"
        "  movaps 160(%rsp), %xmm6\n"
        "  movaps 176(%rsp), %xmm7\n"
        "  leave\n"
        "  .cfi_def_cfa %rsp, 8\n"
        "  jmp *%r11\n"
        "  .cfi_endproc\n"
        "  .size appc_lazy_resolver, .-appc_lazy_resolver\n"
        ".popsection\n");

#endif
