f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2d
0019  sub     rsp, 8
001d  cmp     edi, esi
001f  setl    al
0022  movzx   eax, al
0025  lea     rsp, [rbp-8]
0029  pop     r14
002b  pop     rbp
002c  ret
002d  call    scion_trap  ; trap StackOverflow at wasm 0x2e
0032  ; padding: int3 x 14

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x39
0019  sub     rsp, 8
001d  cmp     rdi, rsi
0020  jb      0x2e
0026  mov     rax, rdi
0029  jmp     0x31
002e  mov     rax, rsi
0031  lea     rsp, [rbp-8]
0035  pop     r14
0037  pop     rbp
0038  ret
0039  call    scion_trap  ; trap StackOverflow at wasm 0x36
003e  ; padding: int3 x 2

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2e
0019  sub     rsp, 8
001d  test    edx, edx
001f  cmovne  rsi, rdi
0023  mov     rax, rsi
0026  lea     rsp, [rbp-8]
002a  pop     r14
002c  pop     rbp
002d  ret
002e  call    scion_trap  ; trap StackOverflow at wasm 0x46
0033  ; padding: int3 x 13

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2e
0019  sub     rsp, 8
001d  test    rdi, rdi
0020  sete    al
0023  movzx   eax, al
0026  lea     rsp, [rbp-8]
002a  pop     r14
002c  pop     rbp
002d  ret
002e  call    scion_trap  ; trap StackOverflow at wasm 0x53
0033  ; padding: int3 x 13
