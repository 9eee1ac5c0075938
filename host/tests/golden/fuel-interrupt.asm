f0:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0x7a
0019  sub     rsp, 8
001d  mov     rax, [r14]
0020  mov     rax, [rax+0x28]
0024  lea     rax, [rax+1]
0028  test    rax, rax
002b  jns     0x57
0031  mov     r11, [r14]
0034  cmp     dword ptr [r11+0x24], 0
0039  jne     0x57
003f  lea     rax, [rax+1]
0043  mov     rcx, [r14]
0046  mov     [rcx+0x28], rax
004a  mov     eax, 1
004f  lea     rsp, [rbp-8]
0053  pop     r14
0055  pop     rbp
0056  ret
0057  mov     r11, [r14]
005a  mov     [r11+0x28], rax
005e  call    scion_yield
0063  test    r11d, r11d
0066  jne     0x75
006c  mov     r11, [r14]
006f  mov     rax, [r11+0x28]
0073  jmp     0x3f
0075  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x0
007a  call    scion_trap  ; trap StackOverflow at wasm 0x1d
007f  ; padding: int3 x 1

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0xda
0019  push    rbx
001a  mov     rax, [r14]
001d  mov     rax, [rax+0x28]
0021  lea     rax, [rax+1]
0025  test    rax, rax
0028  jns     0x94
002e  mov     r11, [r14]
0031  cmp     dword ptr [r11+0x24], 0
0036  jne     0x94
003c  mov     rbx, rdi
003f  test    rax, rax
0042  jns     0xb7
0048  mov     r11, [r14]
004b  cmp     dword ptr [r11+0x24], 0
0050  jne     0xb7
0056  lea     rax, [rax+2]
005a  mov     rcx, [r14]
005d  mov     [rcx+0x28], rax
0061  call    f0
0066  mov     rcx, [r14]
0069  mov     rcx, [rcx+0x28]
006d  sub     ebx, eax
006f  lea     rax, [rcx+4]
0073  test    ebx, ebx
0075  je      0x7d
007b  jmp     0x3f
007d  lea     rax, [rax+1]
0081  mov     rcx, [r14]
0084  mov     [rcx+0x28], rax
0088  mov     rax, rbx
008b  lea     rsp, [rbp-0x10]
008f  pop     rbx
0090  pop     r14
0092  pop     rbp
0093  ret
0094  mov     r11, [r14]
0097  mov     [r11+0x28], rax
009b  call    scion_yield
00a0  test    r11d, r11d
00a3  jne     0xb2
00a9  mov     r11, [r14]
00ac  mov     rax, [r11+0x28]
00b0  jmp     0x3c
00b2  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x0
00b7  mov     r11, [r14]
00ba  mov     [r11+0x28], rax
00be  call    scion_yield
00c3  test    r11d, r11d
00c6  jne     0xd5
00cc  mov     r11, [r14]
00cf  mov     rax, [r11+0x28]
00d3  jmp     0x56
00d5  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x23
00da  call    scion_trap  ; trap StackOverflow at wasm 0x22
00df  ; padding: int3 x 1
