f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x35
0019  sub     rsp, 8
001d  mulsd   xmm0, xmm1
0021  movsd   xmm1, [0x40]
0029  addsd   xmm0, xmm1
002d  lea     rsp, [rbp-8]
0031  pop     r14
0033  pop     rbp
0034  ret
0035  call    scion_trap  ; trap StackOverflow at wasm 0x28
003a  ; padding: int3 x 6
0040  ; data 00 00 00 00 00 00 f8 3f
0048  ; data 00 00 00 00 00 00 00 00

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x40
0019  sub     rsp, 8
001d  xorps   xmm0, [0x50]
0024  movaps  xmm2, xmm1
0027  andps   xmm2, [0x50]
002e  andps   xmm0, [0x60]
0035  orps    xmm0, xmm2
0038  lea     rsp, [rbp-8]
003c  pop     r14
003e  pop     rbp
003f  ret
0040  call    scion_trap  ; trap StackOverflow at wasm 0x3a
0045  ; padding: int3 x 11
0050  ; data 00 00 00 80 00 00 00 00
0058  ; data 00 00 00 00 00 00 00 00
0060  ; data ff ff ff 7f 00 00 00 00
0068  ; data 00 00 00 00 00 00 00 00

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x4b
0019  sub     rsp, 8
001d  ucomisd xmm0, xmm1
0021  jne     0x3f
0027  jp      0x36
002d  orpd    xmm0, xmm1
0031  jmp     0x43
0036  addsd   xmm0, xmm1
003a  jmp     0x43
003f  minsd   xmm0, xmm1
0043  lea     rsp, [rbp-8]
0047  pop     r14
0049  pop     rbp
004a  ret
004b  call    scion_trap  ; trap StackOverflow at wasm 0x43

f3:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x6f
0019  sub     rsp, 8
001d  ucomiss xmm0, xmm1
0020  sete    cl
0023  setnp   al
0026  and     cl, al
0028  movzx   ecx, cl
002b  sqrtss  xmm0, xmm0
002f  roundss xmm0, xmm0, 0
0035  cvttss2si eax, xmm0
0039  cmp     eax, 1
003c  jno     0x64
0042  ucomiss xmm0, xmm0
0045  jp      0x74
004b  ucomiss xmm0, [0x80]
0052  jb      0x79
0058  xorps   xmm1, xmm1
005b  ucomiss xmm0, xmm1
005e  ja      0x79
0064  lea     eax, [rcx+rax]
0067  lea     rsp, [rbp-8]
006b  pop     r14
006d  pop     rbp
006e  ret
006f  call    scion_trap  ; trap StackOverflow at wasm 0x4b
0074  call    scion_trap  ; trap BadConversionToInteger at wasm 0x55
0079  call    scion_trap  ; trap IntegerOverflow at wasm 0x55
007e  ; padding: int3 x 2
0080  ; data 00 00 00 cf 00 00 00 00
0088  ; data 00 00 00 00 00 00 00 00
