f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x37
0019  sub     rsp, 8
001d  cmp     rdi, [r14+0x28]
0021  jae     0x3c
0027  mov     rax, [r14+0x20]
002b  mov     rax, [rax+rdi*8]
002f  lea     rsp, [rbp-8]
0033  pop     r14
0035  pop     rbp
0036  ret
0037  call    scion_trap  ; trap StackOverflow at wasm 0x2c
003c  call    scion_trap  ; trap TableOutOfBounds at wasm 0x2f
0041  ; padding: int3 x 15

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x3a
0019  sub     rsp, 8
001d  cmp     rdi, [r14+0x28]
0021  jae     0x3f
0027  mov     rax, [r14+0x20]
002b  lea     rax, [rax+rdi*8]
002f  mov     [rax], rsi
0032  lea     rsp, [rbp-8]
0036  pop     r14
0038  pop     rbp
0039  ret
003a  call    scion_trap  ; trap StackOverflow at wasm 0x33
003f  call    scion_trap  ; trap TableOutOfBounds at wasm 0x38
0044  ; padding: int3 x 12

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x4b
0019  sub     rsp, 8
001d  mov     rax, rdi
0020  mov     rcx, rsi
0023  mov     edx, 0
0028  mov     rdi, r14
002b  mov     esi, edx
002d  mov     rdx, rax
0030  mov     ecx, ecx
0032  mov     r11, [r14+0x10]
0036  call    qword ptr [r11+0x28]
003a  mov     eax, eax
003c  mov     ecx, [r14+0x28]
0040  lea     eax, [rax+rcx]
0043  lea     rsp, [rbp-8]
0047  pop     r14
0049  pop     rbp
004a  ret
004b  call    scion_trap  ; trap StackOverflow at wasm 0x3c
