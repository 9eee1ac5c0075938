f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x28
0019  sub     rsp, 8
001d  lea     eax, [rdi+1]
0020  lea     rsp, [rbp-8]
0024  pop     r14
0026  pop     rbp
0027  ret
0028  call    scion_trap  ; trap StackOverflow at wasm 0x43
002d  ; padding: int3 x 3

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x44
0019  sub     rsp, 8
001d  call    f1
0022  mov     rdi, rax
0025  mov     r11, [r14+0x30]
0029  mov     r14, [r14+0x38]
002d  mov     r15, [r14+8]
0031  call    r11
0034  mov     r14, [rbp-8]
0038  mov     r15, [r14+8]
003c  lea     rsp, [rbp-8]
0040  pop     r14
0042  pop     rbp
0043  ret
0044  call    scion_trap  ; trap StackOverflow at wasm 0x4b
0049  ; padding: int3 x 7

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x62
0019  sub     rsp, 8
001d  cmp     rdi, [r14+0x28]
0021  jae     0x67
0027  mov     rax, [r14+0x20]
002b  mov     rax, [rax+rdi*8]
002f  test    rax, rax
0032  je      0x6c
0038  mov     ecx, [r14+0x40]
003c  cmp     ecx, [rax+0x18]
003f  jne     0x71
0045  mov     rdi, rsi
0048  mov     r14, [rax+0x10]
004c  mov     r15, [r14+8]
0050  call    qword ptr [rax]
0052  mov     r14, [rbp-8]
0056  mov     r15, [r14+8]
005a  lea     rsp, [rbp-8]
005e  pop     r14
0060  pop     rbp
0061  ret
0062  call    scion_trap  ; trap StackOverflow at wasm 0x54
0067  call    scion_trap  ; trap TableOutOfBounds at wasm 0x59
006c  call    scion_trap  ; trap IndirectCallToNull at wasm 0x59
0071  call    scion_trap  ; trap BadSignature at wasm 0x59
0076  ; padding: int3 x 10

f4:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x30
0010  cmp     rsp, r11
0013  jb      0x5e
0019  push    rbx
001a  sub     rsp, 0x20
001e  mov     rax, rdx
0021  mov     rbx, rcx
0024  mov     rcx, [rbp+0x10]
0028  mov     rdx, [rbp+0x18]
002c  mov     [rsp], rsi
0030  mov     [rsp+8], rdi
0035  mov     rdi, rdx
0038  mov     rsi, rcx
003b  mov     rdx, r9
003e  mov     rcx, r8
0041  mov     r8, rbx
0044  mov     r9, rax
0047  call    f4
004c  mov     rcx, [rsp+0x10]
0051  mov     [rbp+0x20], rcx
0055  lea     rsp, [rbp-0x10]
0059  pop     rbx
005a  pop     r14
005c  pop     rbp
005d  ret
005e  call    scion_trap  ; trap StackOverflow at wasm 0x5e
0063  ; padding: int3 x 13
