f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x70
0010  cmp     rsp, r11
0013  jb      0xe3
0019  push    rbx
001a  push    r12
001c  push    r13
001e  sub     rsp, 0x50
0022  imul    rax, rdi, 3
0026  mov     [rbp-0x40], rax
002a  lea     rcx, [rdi+5]
002e  mov     [rbp-0x30], rcx
0032  mov     rdx, rax
0035  xor     rdx, rcx
0038  mov     rsi, rdx
003b  rol     rsi, 7
003f  mov     rdi, rsi
0042  sub     rdi, rax
0045  mov     r8, rdi
0048  imul    r8, rcx
004c  lea     rax, [r8+rdx]
0050  mov     [rbp-0x60], rax
0054  mov     rbx, rax
0057  xor     rbx, rsi
005a  lea     r9, [rbx+rdi]
005e  mov     [rbp-0x70], r9
0062  mov     r13, r9
0065  imul    r13, r8
0069  mov     rcx, r13
006c  sub     rcx, rax
006f  mov     rax, rcx
0072  xor     rax, rbx
0075  lea     r12, [rax+r9]
0079  mov     [rbp-0x50], r12
007d  mov     r9, r12
0080  imul    r9, r13
0084  mov     r10, [rbp-0x40]
0088  mov     r11, [rbp-0x30]
008c  lea     r12, [r10+r11]
0090  lea     rdx, [rdx+rsi]
0094  lea     rdx, [r12+rdx]
0098  lea     rsi, [rdi+r8]
009c  mov     r10, [rbp-0x60]
00a0  lea     rdi, [r10+rbx]
00a4  lea     rsi, [rsi+rdi]
00a8  lea     rdx, [rdx+rsi]
00ac  mov     r10, [rbp-0x70]
00b0  lea     rsi, [r10+r13]
00b4  lea     rax, [rcx+rax]
00b8  lea     rax, [rsi+rax]
00bc  mov     rcx, [rbp-0x50]
00c0  imul    rcx, [rbp-0x40]
00c5  imul    r9, [rbp-0x30]
00ca  lea     rcx, [rcx+r9]
00ce  lea     rax, [rax+rcx]
00d2  lea     rax, [rdx+rax]
00d6  lea     rsp, [rbp-0x20]
00da  pop     r13
00dc  pop     r12
00de  pop     rbx
00df  pop     r14
00e1  pop     rbp
00e2  ret
00e3  call    scion_trap  ; trap StackOverflow at wasm 0x28
00e8  ; padding: int3 x 8
