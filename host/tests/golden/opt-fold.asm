f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2a
0019  sub     rsp, 8
001d  mov     eax, 0x14
0022  lea     rsp, [rbp-8]
0026  pop     r14
0028  pop     rbp
0029  ret
002a  call    scion_trap  ; trap StackOverflow at wasm 0x1d
002f  ; padding: int3 x 1

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
0028  call    scion_trap  ; trap StackOverflow at wasm 0x28
002d  ; padding: int3 x 3
