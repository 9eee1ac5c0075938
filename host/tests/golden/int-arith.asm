f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x2b
0019  sub     rsp, 8
001d  imul    edi, esi
0020  lea     eax, [rdi+7]
0023  lea     rsp, [rbp-8]
0027  pop     r14
0029  pop     rbp
002a  ret
002b  call    scion_trap  ; trap StackOverflow at wasm 0x27

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x47
0019  sub     rsp, 8
001d  mov     rax, rdi
0020  test    esi, esi
0022  je      0x4c
0028  cmp     esi, 0xffffffff
002b  jne     0x3a
0031  cmp     eax, 1
0034  jo      0x51
003a  cdq
003b  idiv    esi
003d  mov     eax, eax
003f  lea     rsp, [rbp-8]
0043  pop     r14
0045  pop     rbp
0046  ret
0047  call    scion_trap  ; trap StackOverflow at wasm 0x32
004c  call    scion_trap  ; trap IntegerDivisionByZero at wasm 0x37
0051  call    scion_trap  ; trap IntegerOverflow at wasm 0x37
0056  ; padding: int3 x 10

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x32
0019  sub     rsp, 8
001d  mov     rcx, rsi
0020  shl     rdi, cl
0023  rol     rdi, 3
0027  mov     rax, rdi
002a  lea     rsp, [rbp-8]
002e  pop     r14
0030  pop     rbp
0031  ret
0032  call    scion_trap  ; trap StackOverflow at wasm 0x3a
0037  ; padding: int3 x 9

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x3d
0019  sub     rsp, 8
001d  mov     eax, 0xffffffff
0022  bsr     ecx, edi
0025  cmove   rcx, rax
0029  neg     ecx
002b  add     ecx, 0x1f
002e  popcnt  eax, edi
0032  lea     eax, [rcx+rax]
0035  lea     rsp, [rbp-8]
0039  pop     r14
003b  pop     rbp
003c  ret
003d  call    scion_trap  ; trap StackOverflow at wasm 0x45
0042  ; padding: int3 x 14
