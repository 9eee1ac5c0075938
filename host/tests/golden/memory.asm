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
001d  lea     rax, [rdi+4]
0021  cmp     rax, [r14+0x28]
0025  ja      0x3c
002b  mov     eax, [r15+rdi]
002f  lea     rsp, [rbp-8]
0033  pop     r14
0035  pop     rbp
0036  ret
0037  call    scion_trap  ; trap StackOverflow at wasm 0x27
003c  call    scion_trap  ; trap MemoryOutOfBounds at wasm 0x2a
0041  ; padding: int3 x 15

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x38
0019  sub     rsp, 8
001d  lea     rax, [rdi+0x10]
0021  cmp     rax, [r14+0x28]
0025  ja      0x3d
002b  mov     [r15+rdi+8], rsi
0030  lea     rsp, [rbp-8]
0034  pop     r14
0036  pop     rbp
0037  ret
0038  call    scion_trap  ; trap StackOverflow at wasm 0x2f
003d  call    scion_trap  ; trap MemoryOutOfBounds at wasm 0x34
0042  ; padding: int3 x 14

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x39
0019  sub     rsp, 8
001d  lea     rax, [rdi+4]
0021  cmp     rax, [r14+0x28]
0025  ja      0x3e
002b  movsx   eax, word ptr [r15+rdi+2]
0031  lea     rsp, [rbp-8]
0035  pop     r14
0037  pop     rbp
0038  ret
0039  call    scion_trap  ; trap StackOverflow at wasm 0x39
003e  call    scion_trap  ; trap MemoryOutOfBounds at wasm 0x3c
0043  ; padding: int3 x 13

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x48
0019  sub     rsp, 8
001d  mov     rax, rdi
0020  mov     ecx, 0
0025  mov     rdi, r14
0028  mov     esi, ecx
002a  mov     edx, eax
002c  mov     r11, [r14+0x10]
0030  call    qword ptr [r11]
0033  mov     eax, eax
0035  mov     rcx, [r14+0x28]
0039  shr     rcx, 0x10
003d  lea     eax, [rax+rcx]
0040  lea     rsp, [rbp-8]
0044  pop     r14
0046  pop     rbp
0047  ret
0048  call    scion_trap  ; trap StackOverflow at wasm 0x41
004d  ; padding: int3 x 3

f4:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x39
0019  sub     rsp, 8
001d  cmp     rdi, [r14+0x28]
0021  jae     0x3e
0027  mov     byte ptr [r15+rdi], 1
002c  movzx   eax, byte ptr [r15+rdi]
0031  lea     rsp, [rbp-8]
0035  pop     r14
0037  pop     rbp
0038  ret
0039  call    scion_trap  ; trap StackOverflow at wasm 0x4b
003e  call    scion_trap  ; trap MemoryOutOfBounds at wasm 0x50
0043  ; padding: int3 x 13
