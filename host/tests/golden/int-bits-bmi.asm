f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x29
0019  sub     rsp, 8
001d  lzcnt   eax, edi
0021  lea     rsp, [rbp-8]
0025  pop     r14
0027  pop     rbp
0028  ret
0029  call    scion_trap  ; trap StackOverflow at wasm 0x1e
002e  ; padding: int3 x 2

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2a
0019  sub     rsp, 8
001d  tzcnt   rax, rdi
0022  lea     rsp, [rbp-8]
0026  pop     r14
0028  pop     rbp
0029  ret
002a  call    scion_trap  ; trap StackOverflow at wasm 0x24
002f  ; padding: int3 x 1
