f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x28
0019  sub     rsp, 8
001d  lea     eax, [rdi+rsi*4]
0020  lea     rsp, [rbp-8]
0024  pop     r14
0026  pop     rbp
0027  ret
0028  call    scion_trap  ; trap StackOverflow at wasm 0x23
002d  ; padding: int3 x 3

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
001d  lea     rax, [rdi+rsi+0x28]
0022  lea     rsp, [rbp-8]
0026  pop     r14
0028  pop     rbp
0029  ret
002a  call    scion_trap  ; trap StackOverflow at wasm 0x2e
002f  ; padding: int3 x 1

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x29
0019  sub     rsp, 8
001d  lea     eax, [rdi+rsi*8-0x10]
0021  lea     rsp, [rbp-8]
0025  pop     r14
0027  pop     rbp
0028  ret
0029  call    scion_trap  ; trap StackOverflow at wasm 0x39
002e  ; padding: int3 x 2

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2b
0019  sub     rsp, 8
001d  shl     esi, 4
0020  lea     eax, [rdi+rsi]
0023  lea     rsp, [rbp-8]
0027  pop     r14
0029  pop     rbp
002a  ret
002b  call    scion_trap  ; trap StackOverflow at wasm 0x47

f4:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2d
0019  sub     rsp, 8
001d  shl     esi, 1
001f  lea     eax, [rdi+rsi]
0022  imul    eax, esi
0025  lea     rsp, [rbp-8]
0029  pop     r14
002b  pop     rbp
002c  ret
002d  call    scion_trap  ; trap StackOverflow at wasm 0x52
0032  ; padding: int3 x 14
