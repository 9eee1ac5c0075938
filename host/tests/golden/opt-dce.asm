f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x4a
0019  sub     rsp, 8
001d  mov     rax, rdi
0020  test    esi, esi
0022  je      0x4f
0028  cmp     esi, 0xffffffff
002b  jne     0x3a
0031  cmp     eax, 1
0034  jo      0x54
003a  cdq
003b  idiv    esi
003d  mov     eax, eax
003f  mov     rax, rsi
0042  lea     rsp, [rbp-8]
0046  pop     r14
0048  pop     rbp
0049  ret
004a  call    scion_trap  ; trap StackOverflow at wasm 0x19
004f  call    scion_trap  ; trap IntegerDivisionByZero at wasm 0x31
0054  call    scion_trap  ; trap IntegerOverflow at wasm 0x31
0059  ; padding: int3 x 7
