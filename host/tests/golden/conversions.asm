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
001d  mov     eax, edi
001f  movsxd  rax, eax
0022  lea     rsp, [rbp-8]
0026  pop     r14
0028  pop     rbp
0029  ret
002a  call    scion_trap  ; trap StackOverflow at wasm 0x2a
002f  ; padding: int3 x 1

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x50
0019  sub     rsp, 8
001d  ucomisd xmm0, xmm0
0021  jp      0x55
0027  ucomisd xmm0, [0x60]
002f  jbe     0x5a
0035  ucomisd xmm0, [0x70]
003d  jae     0x5a
0043  cvttsd2si rax, xmm0
0048  lea     rsp, [rbp-8]
004c  pop     r14
004e  pop     rbp
004f  ret
0050  call    scion_trap  ; trap StackOverflow at wasm 0x31
0055  call    scion_trap  ; trap BadConversionToInteger at wasm 0x34
005a  call    scion_trap  ; trap IntegerOverflow at wasm 0x34
005f  ; padding: int3 x 1
0060  ; data 00 00 00 00 00 00 f0 bf
0068  ; data 00 00 00 00 00 00 00 00
0070  ; data 00 00 00 00 00 00 f0 41
0078  ; data 00 00 00 00 00 00 00 00

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
001d  cvttss2si rax, xmm0
0022  cmp     rax, 1
0026  jno     0x52
002c  ucomiss xmm0, xmm0
002f  jp      0x50
0035  xorps   xmm1, xmm1
0038  ucomiss xmm0, xmm1
003b  jbe     0x52
0041  mov     rax, 0x7fffffffffffffff
004b  jmp     0x52
0050  xor     eax, eax
0052  lea     rsp, [rbp-8]
0056  pop     r14
0058  pop     rbp
0059  ret
005a  call    scion_trap  ; trap StackOverflow at wasm 0x37
005f  ; padding: int3 x 1

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x5d
0019  sub     rsp, 8
001d  xorps   xmm0, xmm0
0020  test    rdi, rdi
0023  js      0x33
0029  cvtsi2sd xmm0, rdi
002e  jmp     0x4c
0033  mov     rax, rdi
0036  shr     rax, 1
0039  mov     rcx, rdi
003c  and     rcx, 1
0040  or      rax, rcx
0043  cvtsi2sd xmm0, rax
0048  addsd   xmm0, xmm0
004c  movq    xmm1, rdi
0051  addsd   xmm0, xmm1
0055  lea     rsp, [rbp-8]
0059  pop     r14
005b  pop     rbp
005c  ret
005d  call    scion_trap  ; trap StackOverflow at wasm 0x3e
0062  ; padding: int3 x 14
