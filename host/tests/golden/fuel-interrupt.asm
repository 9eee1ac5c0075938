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
007a  call    scion_trap  ; trap StackOverflow at wasm 0x1e
007f  ; padding: int3 x 1

f1:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0xd4
0019  push    rbx
001a  mov     rax, [r14]
001d  mov     rax, [rax+0x28]
0021  lea     rax, [rax+1]
0025  test    rax, rax
0028  jns     0x8e
002e  mov     r11, [r14]
0031  cmp     dword ptr [r11+0x24], 0
0036  jne     0x8e
003c  mov     rbx, rdi
003f  test    rax, rax
0042  jns     0xb1
0048  mov     r11, [r14]
004b  cmp     dword ptr [r11+0x24], 0
0050  jne     0xb1
0056  lea     rax, [rax+2]
005a  mov     rcx, [r14]
005d  mov     [rcx+0x28], rax
0061  call    f0
0066  mov     rcx, [r14]
0069  mov     rcx, [rcx+0x28]
006d  sub     ebx, eax
006f  lea     rax, [rcx+4]
0073  test    ebx, ebx
0075  jne     0x3f
0077  lea     rax, [rax+1]
007b  mov     rcx, [r14]
007e  mov     [rcx+0x28], rax
0082  mov     rax, rbx
0085  lea     rsp, [rbp-0x10]
0089  pop     rbx
008a  pop     r14
008c  pop     rbp
008d  ret
008e  mov     r11, [r14]
0091  mov     [r11+0x28], rax
0095  call    scion_yield
009a  test    r11d, r11d
009d  jne     0xac
00a3  mov     r11, [r14]
00a6  mov     rax, [r11+0x28]
00aa  jmp     0x3c
00ac  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x0
00b1  mov     r11, [r14]
00b4  mov     [r11+0x28], rax
00b8  call    scion_yield
00bd  test    r11d, r11d
00c0  jne     0xcf
00c6  mov     r11, [r14]
00c9  mov     rax, [r11+0x28]
00cd  jmp     0x56
00cf  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x24
00d4  call    scion_trap  ; trap StackOverflow at wasm 0x23
00d9  ; padding: int3 x 7

f2:
0000  push    rbp
0001  mov     rbp, rsp
0004  push    r14
0006  mov     r11, [r14]
0009  mov     r11, [r11]
000c  add     r11, 0x10
0010  cmp     rsp, r11
0013  jb      0xc2
0019  sub     rsp, 8
001d  mov     rax, [r14]
0020  mov     rax, [rax+0x28]
0024  lea     rax, [rax+1]
0028  test    rax, rax
002b  jns     0x7c
0031  mov     r11, [r14]
0034  cmp     dword ptr [r11+0x24], 0
0039  jne     0x7c
003f  mov     ecx, 0
0044  test    rax, rax
0047  jns     0x9f
004d  mov     r11, [r14]
0050  cmp     dword ptr [r11+0x24], 0
0055  jne     0x9f
005b  lea     ecx, [rcx+3]
005e  lea     rax, [rax+8]
0062  cmp     ecx, edi
0064  jb      0x44
0066  lea     rax, [rax+1]
006a  mov     rdx, [r14]
006d  mov     [rdx+0x28], rax
0071  mov     rax, rcx
0074  lea     rsp, [rbp-8]
0078  pop     r14
007a  pop     rbp
007b  ret
007c  mov     r11, [r14]
007f  mov     [r11+0x28], rax
0083  call    scion_yield
0088  test    r11d, r11d
008b  jne     0x9a
0091  mov     r11, [r14]
0094  mov     rax, [r11+0x28]
0098  jmp     0x3f
009a  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x0
009f  mov     r11, [r14]
00a2  mov     [r11+0x28], rax
00a6  call    scion_yield
00ab  test    r11d, r11d
00ae  jne     0xbd
00b4  mov     r11, [r14]
00b7  mov     rax, [r11+0x28]
00bb  jmp     0x5b
00bd  call    scion_trap  ; trap (code stored by the builtin) at wasm 0x39
00c2  call    scion_trap  ; trap StackOverflow at wasm 0x36
00c7  ; padding: int3 x 9
