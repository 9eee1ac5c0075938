f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x43
0019  sub     rsp, 8
001d  mov     eax, 0
0022  mov     rcx, rax
0025  mov     rax, rdi
0028  test    eax, eax
002a  je      0x38
0030  lea     ecx, [rcx+rax]
0033  sub     eax, 1
0036  jmp     0x28
0038  mov     rax, rcx
003b  lea     rsp, [rbp-8]
003f  pop     r14
0041  pop     rbp
0042  ret
0043  call    scion_trap  ; trap StackOverflow at wasm 0x20
0048  ; padding: int3 x 8

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x3b
0019  sub     rsp, 8
001d  test    edi, edi
001f  je      0x2d
0025  lea     eax, [rsi+1]
0028  jmp     0x33
002d  sub     esi, 1
0030  mov     rax, rsi
0033  lea     rsp, [rbp-8]
0037  pop     r14
0039  pop     rbp
003a  ret
003b  call    scion_trap  ; trap StackOverflow at wasm 0x42

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x5a
0019  sub     rsp, 8
001d  cmp     edi, 2
0020  jae     0x4d
0026  lea     rax, [0x60]
002d  add     rax, [rax+rdi*8]
0031  jmp     rax
0033  mov     eax, 0xa
0038  lea     rsp, [rbp-8]
003c  pop     r14
003e  pop     rbp
003f  ret
0040  mov     eax, 0x14
0045  lea     rsp, [rbp-8]
0049  pop     r14
004b  pop     rbp
004c  ret
004d  mov     eax, 0x1e
0052  lea     rsp, [rbp-8]
0056  pop     r14
0058  pop     rbp
0059  ret
005a  call    scion_trap  ; trap StackOverflow at wasm 0x55
005f  ; padding: int3 x 1
0060  ; data d3 ff ff ff ff ff ff ff
0068  ; data e0 ff ff ff ff ff ff ff
