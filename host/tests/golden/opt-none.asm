f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x30
0019  sub     rsp, 8
001d  mov     eax, 2
0022  lea     eax, [rax+3]
0025  imul    eax, 4
0028  lea     rsp, [rbp-8]
002c  pop     r14
002e  pop     rbp
002f  ret
0030  call    scion_trap  ; trap StackOverflow at wasm 0x1d
0035  ; padding: int3 x 11

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x51
0019  sub     rsp, 8
001d  mov     eax, 1
0022  cmp     eax, 1
0025  jne     0x33
002b  lea     eax, [rdi+1]
002e  jmp     0x49
0033  mov     ecx, 0
0038  mov     rax, rdi
003b  test    ecx, ecx
003d  je      0x56
0043  xor     edx, edx
0045  div     ecx
0047  mov     eax, eax
0049  lea     rsp, [rbp-8]
004d  pop     r14
004f  pop     rbp
0050  ret
0051  call    scion_trap  ; trap StackOverflow at wasm 0x28
0056  call    scion_trap  ; trap IntegerDivisionByZero at wasm 0x3a
005b  ; padding: int3 x 5
