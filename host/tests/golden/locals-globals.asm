f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x35
0019  sub     rsp, 8
001d  mov     eax, [r14+0x20]
0021  lea     eax, [rdi+rax]
0024  mov     rcx, rax
0027  imul    ecx, eax
002a  mov     rax, rcx
002d  lea     rsp, [rbp-8]
0031  pop     r14
0033  pop     rbp
0034  ret
0035  call    scion_trap  ; trap StackOverflow at wasm 0x2a
003a  ; padding: int3 x 6

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x31
0019  sub     rsp, 8
001d  mov     rax, [r14+0x30]
0021  lea     rax, [rax+rdi]
0025  mov     [r14+0x30], rax
0029  lea     rsp, [rbp-8]
002d  pop     r14
002f  pop     rbp
0030  ret
0031  call    scion_trap  ; trap StackOverflow at wasm 0x3d
0036  ; padding: int3 x 10
