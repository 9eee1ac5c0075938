f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x33
0019  sub     rsp, 8
001d  mov     rax, rdi
0020  lea     eax, [rax+rsi]
0023  cmp     eax, 0x64
0026  jb      0x20
0028  lea     eax, [rax+rsi]
002b  lea     rsp, [rbp-8]
002f  pop     r14
0031  pop     rbp
0032  ret
0033  call    scion_trap  ; trap StackOverflow at wasm 0x19
0038  ; padding: int3 x 8
