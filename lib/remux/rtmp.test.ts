import { describe, expect, test } from 'bun:test';
import { ParseError } from '../core/errors.ts';
import type { AvPacket, TrackInfo } from '../core/packet.ts';
import { decodeAmf0All } from '../format/amf0/index.ts';
import { avPacketToFlvBody, audioSeqHeaderBody, flvTagTypeOf, flvTimestampOf, videoSeqHeaderBody } from './flv.ts';
import { addSetDataFrame, AMF0_SET_DATA_FRAME, RtmpToAv, stripSetDataFrame, type RtmpIngestResult } from './rtmp.ts';
import { fromHex, mulberry32, randomBytes, toHex } from '../core/testing.ts';

const fc = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

/**
 * The first 12 tags of a real ffmpeg FLV, made at authoring time with
 *   ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440 -t 2
 *          -c:v libx264 -g 25 -c:a aac -f flv x.flv
 * ffprobe: h264 High level 13 320x240, aac LC 44100 Hz mono. [type, timestamp ms, body toHex]:
 * onMetaData, AVC sequence header, AAC sequence header, key frame (cts 80), B-frames, AAC frames.
 */
const REAL_TAGS: [number, number, string][] = [
  [18, 0,
    '02000a6f6e4d65746144617461080000000d00086475726174696f6e004000a3d70a3d70a400057769647468004074000000' +
    '000000000668656967687400406e000000000000000d766964656f646174617261746500000000000000000000096672616d' +
    '6572617465004039000000000000000c766964656f636f646563696400401c000000000000000d617564696f646174617261' +
    '7465004050d88000000000000f617564696f73616d706c65726174650040e5888000000000000f617564696f73616d706c65' +
    '73697a65004030000000000000000673746572656f0100000c617564696f636f64656369640040240000000000000007656e' +
    '636f64657202000d4c61766635382e32342e313030000866696c6573697a650040f6ccb000000000000009'],
  [9, 0,
    '17000000000164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0'],
  [8, 0,
    'af00120856e500'],
  [9, 0,
    '1701000050000002ac0605ffffa8dc45e9bde6d948b7962cd820d923eeef78323634202d20636f7265203135372072323933' +
    '352035343564653266202d20482e3236342f4d5045472d342041564320636f646563202d20436f70796c6566742032303033' +
    '2d32303138202d20687474703a2f2f7777772e766964656f6c616e2e6f72672f783236342e68746d6c202d206f7074696f6e' +
    '733a2063616261633d31207265663d33206465626c6f636b3d313a303a3020616e616c7973653d3078333a3078313133206d' +
    '653d686578207375626d653d37207073793d31207073795f72643d312e30303a302e3030206d697865645f7265663d31206d' +
    '655f72616e67653d3136206368726f6d615f6d653d31207472656c6c69733d31203878386463743d312063716d3d30206465' +
    '61647a6f6e653d32312c313120666173745f70736b69703d31206368726f6d615f71705f6f66667365743d2d322074687265' +
    '6164733d33206c6f6f6b61686561645f746872656164733d3120736c696365645f746872656164733d30206e723d30206465' +
    '63696d6174653d3120696e7465726c616365643d3020626c757261795f636f6d7061743d3020636f6e73747261696e65645f' +
    '696e7472613d3020626672616d65733d3320625f707972616d69643d3220625f61646170743d3120625f626961733d302064' +
    '69726563743d3120776569676874623d31206f70656e5f676f703d3020776569676874703d32206b6579696e743d3235206b' +
    '6579696e745f6d696e3d32207363656e656375743d343020696e7472615f726566726573683d302072635f6c6f6f6b616865' +
    '61643d32352072633d637266206d62747265653d31206372663d32332e302071636f6d703d302e36302071706d696e3d3020' +
    '71706d61783d3639207170737465703d342069705f726174696f3d312e34302061713d313a312e3030008000001168658884' +
    '017fd4576d7dda781513696a55bdaef8c8e59abd5409be085006069c34cc75373a79bdf7bd95813fd7cad97a75009f27e718' +
    'c2a8ffab95a0cd11225a0b9d874ccd54bceeee401a2d15ab2f7dc886cf6072bf5ea77d2cfdd5e9ff1036896d3b69a4b39002' +
    '31e01a49f402bbf8d0e5ecdae2fa9e9fb2667762959988902f5bf3aca523e7eb5d83158fa199ad4588fa0028d6e1443d4c25' +
    'd62fa477166fddea887b4fff05089f72f39c7db669788d53d96f79556655183683cd6608a692fc24526ee592e6fa2b764669' +
    '68eedd39a3f64d67ec07b932aa12a2b3f1549336b45d3599eaddfedc36c7b1c445f9d763b1cf714a0f29d00fedabdbe08453' +
    '02a5bedf4b3114adda4f246b0f763925b3ec2866a3ebf6bdf07ebeae5b787426198a0d2d80bd61a14727d842f713f33b265b' +
    '530d0f1cc494271d8965c158c1a42b72cf98c839c06811d3dbff21a2da347a2db43156254876adee844a7eee4d8c791915dc' +
    'a49c89157d7eddda74e369a7ca4be7e418b2d4515de47ef8ee8d7a52d8cc1003392837da041a52e2002756b3685e8b674bf0' +
    '9bd938bb1ca5fca85cb8b7a4a4aa8db1a5de692db4ff06a77f82e49803b3adb33a4982a1029e5079e08fadf9ff887dfe2ada' +
    '93d1c21121ac8ebb48954eda723571e6b2c3037193ededf4b8d6cbe5888bd9ce165cc2b57ac4f283a3b7953362f8cef3c1a6' +
    '5dcc01cb67c699de202c0ed332b4e7b09037124fd7e09be6973412b89eb3e6e251777ac23c29fd7ee74d9730c27e6bfa5702' +
    '7c68db0fb6f83bf4f55e287b38d1b40e4ca112adb87038f49b5cc47d4d5a34fbe60449d655786750d190df854baa883aa5f8' +
    'f39963f922ac85e173fcdcbf95ee28b7b9b0f0ca7da5bf09a0c30499740d16c38555bd1f471321ed1e1de8042cdb80ed0845' +
    '124fb7a8cc7050c2e0df26cc750f0d08fa5fe19016f6f79fc9908a7cd9399640e7247fb55d2a86b4feae6ffd8038c41a3af5' +
    'a9e408b28025ff6f3b9f72b185805950e3887c0c8003dafe407990e8c4b032f86d89975da7e777cb21994968d6dab2b9e688' +
    'ff242917fb8cdb0cbc449c76fea949ea57f0d22441b36bebdcb0a623155233b9a8e5ff0759e8fb59980101a9a4914c836169' +
    '1d482bba2c9070597e483d3072252bb1e77d15095d75e4ac3cac6edfe038bad549600902e1710b909f51bf9788934eb22b74' +
    'd7d6571ebf8fae55098734bb0b4e5162fcb2f9709440507bffdb39a148a35c652daddf779f5c0c18660e4fddf00c70a67394' +
    'adb4df6c027976ef9b5310a952387a7846d82bc25118c8d8ca10d93cded1b167258bc25fdad1bac7c7cb60737e8f2022257b' +
    '0ed4e5b7399d1f310df2fc98ffa06e57c4d2aca8f0cd05838a7d4590590e0c8fb248f2dfa1d843d651bd937c2d3779f004bf' +
    '55d5718b236f12e6b3bc9d679157d8f01dd2b1e5a0b049af621663349db75e3d32be7d814d9a273c3c25c401f3b419e4db84' +
    '55f2aefd4ae40833ccd445767fa3b669a81a55f74d91685230227b0db1bc9aee2ade107abac5aac496219d4775c4ad6f68c2' +
    'e792b8907b85b6c424856cc5fffa40deb690b1a6df6cb1208dafffffffefd1479a3ca1ff72f16c525c303708590aac13bdf7' +
    'a8fb4af0139f63b261fdc737efbf650d400a428a4e36efc3bb8336cd9511624273c1129c3d2d35dbf14a532a8be4dd07a78f' +
    '7c8cf49fd5779b45f68cc6d009fbce593245fb593291f9fe7a3153911f24c38e081365dbb025af90a408dce11421bd31c9a4' +
    '6674e4a3ad720741ed2f11ae69199490e0f1069128bdd7e140911e941369a600973f520731071733317fa263cf8f64d05bfb' +
    'e0d65c59a8f7114228057eec2da8c1faa8a4fe1e8e821c1090196f54a0f9522f53d53158de309939d1f1b21be920fb563301' +
    '8404c3d784e930cab540c90ca4967f09e4c050040065febe42e87b88cceb486a252bd1f3e0badbf50e8747a0dc02b27b8caa' +
    '7a0d2ff2a97e81e0e19e59d8a743642b27b7445dfded0ed0145155baeff1a468869bab810ade1d644993980810d4c8e4b960' +
    '93ae99725c70fce76e6f906de5158ac4c8fb3a9a00d67ad8bb3369eae0b7eecb0d33975cb7c07c8d78240b3519a4f887d1ad' +
    'f22d5a7ccc6ee2f06ebf777fee60aaa45f4c91f4b2268aa2f562a4889d47a0dae205d7fd5b37d08ddbadbdfd8d97be1e2bc4' +
    '149f6c4ca6ede9df05e56917f4b810220603b7fa04ed6da7bd4e015ab56ec390f456a04f4ae06df91b50fe6ddec7459f7428' +
    '32ef000559b2b583f768f7d3c6c65ca9a25101f10e14db8880a908498a3d0c3dd560131547cbc50fc0e27a0452cea02054fe' +
    'a8869bcb721fa44f1b6faf1f321bf813d94cf21888e92f245ac7eb7a1dc1361e485c9ba5f4689a92ce96dc2a97d9f6c0c102' +
    '5de9324615ad31425af759a557d02fa51a9f7c23fdad07b8374b76a71227eb4dc1fb27df0e51c06217c25b1f8975e9d2ba21' +
    'bd1e2b4658de3614bb9084bd9791e4c6ebd9df00a2369c8fdfebdb215f0878d8f70df1243ea89cb29dcce386ab1e4c173f55' +
    '0e3cbeb994ed82d0b9961aa36f1bd8fb2c9a24ab90da1b90a065bf1392f7380acd6c20a7c193817eb982be2a22e23af93b72' +
    '282a759f66179c543d61e81f335ff76f9f69dba32409eeb72c1a3760b9252fa27f8a6c446ef19bd50bc9a2b277399bbf1d71' +
    '5f8cf0d703e8cb4d16abe66aa3b104c0567609b5a198d4260713000fbef1b75bf867bdba3354b5227cfb52448db25549a75c' +
    'c7e119ad513a67dd05aba314ef88ee0b009ed0e75546ec074838228842a0723d8da5f247200ac03b03048b8a145f26ff2563' +
    'ee1dd7c34d9767dfc0f5c057612072abe83acff7bf7ccbb3e5cb7468352bf79d20afa2397a9b6dcb29dac530d421f70d048e' +
    'ec85fe67f05416137efbcbfb05de56a7d5646082d28390483a275fe5d75d889acd2f5958224a4fe20ba76c603f13794102d2' +
    'dad2a397093cb7496d6d31487b99a5838ce9a52f4be1a2a41c817d0f0b17282c65cab5146c8bed5f048e8bd9e5f07504216f' +
    '62cad9fa876086fa2bf874655c69ff80de7be57c7d96e9f4c04e7c08bebb13aaf0afd74cfffe83f91776211ed1a1407cdb33' +
    '19330eb98a35fa1a026a56bb07632bed15c19a83022287419917412f28e4c0ae005f1b512ac1806b31649489977a4a2692e0' +
    '51d4c765bb611c8bfff6291fff7a9d695618620d011f6291c870580e0e384b0ad7f8622d3973a62f8ac39cf7030c67a39cb7' +
    '6c67c4397781ffe4bf066088b6253af2522a83396dad2011d127b5b09679992e1bc592e15eb88578bbca2effc942fef66d29' +
    'ea4ce6d8c429cbcca005f508af278b63a6a54551f606493ddedece45afa6005f816f59a6b82e89943caaa9c46bf160a7925a' +
    'b3fd5b66c47c1554d8cf70632c023d8786b49bf21672b4b03c4cc212aa99d064874fe3eecb374aff653cd899f6437591817f' +
    '49cfd6b287963d3eaac53ea7df57bc391f3eaa145af95c8bed50eb37a235d12aae0c797e071693502feb1184aba7769abde3' +
    '48a5e5b3d6434844ef064452ba889a69b00351a0c7d8323489ede59f45b812d821852b66f4725ecc8edf4bbc0b7c0f34d2eb' +
    '8eb6e0dec22a3cfcefdf03a1ce3c6ae5e6f6f9598f9af6d5c5414ca2fdd251111f448c775f620617b25fc0795054cf5bc85a' +
    '449aa7aef50db11d982c64f9ca8b2739cc0ae411ad4cc35e36b3fc15241727a90fa7fa92973d55d8380378f35e1f5a880c49' +
    '97b60bb0f98007c55989dc8bc199df6a34684180e2b529fb66f7aa03f73eb70e017d2457ad95019129cdfca1616a657e1d6e' +
    'e0d88989c9db2b399af6a25ffa9ef91cab88592cb3f4d760e39792e37d2d3adf155388d28429241ad2f0f3abbd12a16e1cc0' +
    '41b7af55e5722833ea6e10e18f962b22b9ae764336981fba5e71e462b0f77853cb546261b324281a4358d9f6a93ef52fe9ee' +
    'd4cf3038ce11b41bcb1bd278e892b77ae3e313678e440abacf9c232cfe4a482ef98aa03722ba2f0a4f2890224bd032521b1c' +
    '29a8724cc988263a7cead30deeb03d0d348e1846efeb2b1680dbb27c5ce76df33aefa0ef6bc173af8485417cc87b73e3c9bf' +
    '20b39725ac51a33620345b6a94bf6773eb3f01e05ce47c99308b26d78df3489ac606abdb27efe2251cad228e0b0d50a37a02' +
    'b281520961bfa4a66316279c3c4230cb07be7bec7e80d338e8ecfa411ded3c4d76615e1caf491dfe9e0caa8555d959355103' +
    '6847e4f3e8e982e8b77405304932506cbad393ccb9f438eb5e2e41ddb7914501d398b630c808114f594f099584628ee336bc' +
    'e0ea4aba405c41cb58471b883e7723a28387c0a1ed9a2c6015e101b856ae2813d9814eb113434ae6d48647a2b66317144dd6' +
    '53c95a43057a72fb3cd8debd30b52146f9c907bb11dbc3053bc567abfd6d20a5090a293e6018d84ac2e87bf700d46a57245a' +
    'd191526517299fb86598441fb3be03a67a6641de03c4733f22957f3be41957d8254cb843ffabdaa5d040fccaa1b48e234110' +
    '8c6b8e8d8f2b0a3f29e96d4aad4dade1cb007a18a1c1a79ede160cf70b4f9e180ea343a17816c5a62b328debd8e301039a34' +
    '2ad58811b261aab3f0ea2f503ec3b28c0b6f28a6e53aaf087a83e5780e8d989a6259c3de2af77ee3b8b2204101c0e70dd8d8' +
    'd2e6763d5e666a927bdacfeee5f995296aab07c7a962ae561828da8354578dc58383c06e36bb0b0fb0f597b74370bf7a28c3' +
    'c7294ea86a3a44b5582455974b62a358741f44c07f7f33d32f710d8c4d525cc331947b51d45f6e7523c1aec5632eb3944054' +
    'd4a9142a73ea068f026917caf63fccd878a9d0ca1578058462c9dba0ec4acb82d5eaefa61b4000e00005e1b6fe6f81f9878a' +
    'ecfa8284b38acf6d0ffd32eeee0fdcd16ebe9a0ccdf20513f0344d1fdcbde2d117839065e5005c525df2764e66c6d1fd1282' +
    '9807c301bb22ee3b75464d9d95c860badd1925c063f4493f68042d92348c4b62693333e178607c3ea61ffac496eb9ff5a01f' +
    'f1cbb79e37d7226f2c665a980b41481ebd6eab7f5ff65ca64b19a973db636ce1db755e1cdea9ba013ca5e7b8408e8403e182' +
    '8c95fe7b0f2bd906f1e64918af396c189875dc04f8f021588a3f60f18f92657896e900083d480e4876f2c430a79d44df9f6f' +
    '5cacc03eb5a80e726149d80d4d3b8b4621cab3618e4addede2462d6fab28a60b8bd09b40d8ba19d41589b6f519804a03faee' +
    'b1d981dc47cfb6338a95e4dbcb24d1723bde8e15cf4d2f80659b3bdd0070f2b0aa2f2875b6759997bb59f60db31f0c1cb09b' +
    '4e823320a86e4c67c4ef68a1e548e297c485aed06e434aadb0faa1fa67166fa5de3bd58e2a9e6ae516d0bca48cef94204c62' +
    '37ab6565e0d0005744a374373796e60e999005f970d4339675cc50021347590934a5cdd3e4619b51ab20c5d4809c0ed09292' +
    '2ece618cded527de30f712882ae60bcf3ddbd07bc906d2a068ce905c2039bee9abe9b9a3ea9ddba9738d58cc225c3c041cb6' +
    '8f3f127725256e3b5c3708826fef0ec8df3f50118498c294c79924793b30acb526167dfae835b645e8ee0534b2bb1e6426e3' +
    '5dde1c15ac74a1fd519d991547b2781f68f8b1a6732dd135ac126a90be258c0e453f96500b8ef591395a8b65204c29937576' +
    '9c2816762124758b926ee42fb670abca8f8292aefaecc4aacce1511b1a8ae3199ecb699005719a1c9b9354e035f17d1c48af' +
    '44a29fe86d68af8e0068d7e509405db82bfbf718b7ed77d5622ba2e3f39c89e80f9fef68ab0c80fc7e471ff95f066256eb23' +
    '8fc2d863425545097fd93bbe5c38a4abfd4aec4a483902dd4dd66fe8ae8369a7351496ed63a1234262be1aa018147f906f91' +
    'aec99b2a8455c248cae2cf544a8433a87fcde6b44906e42d63e4bcdae7194684861b92bc041a66bed17686daaa101ec1e8d0' +
    '2d7d5f07f8c2eda4fe55c4e92ab2bbec3913a642216c4784fe6fdcf2be634f06860c4776f1859ab906fbbeebb417a969e116' +
    '0d42a27bcb0815cb1f10ebd1e94e1eae10b7542b0796826a01a72472fe94ebf90a5b6961aaebdfcb14e69dcebc33e287e502' +
    '4fc5dad6f063eaff363166ebb90c0474e061e8ad16eb7b0dc4b852d98e0f56410e001ac0a294c4f6b78f5940dd1dedbebdd1' +
    'ef4f082d85215786321b9233f0d4aca54848c519f5bf64eefb6da7a102ed97e7006ae7d5871f57d0d1e58adf3750b10c6a87' +
    '2186e78b5d4d465ff4d0308c7635f52bb28d8f50c5380fb15289dc1b1880234145d29350f5022592f6c40f2994502a4caab0' +
    '64b551'],
  [9, 40,
    '27010000c8000009a5419a246c49ffbaf6b35a07ac134961db0d8f1bf81a9663f578ba850f5718cd798085c3bd2d492b5d71' +
    'ee50a1ca090e88e28348a446e50c58cd38f8aa5d7af94766238aabd3b741cff1f319f21b12c22d3ccb703dcd8c6e6d22a93e' +
    'ebcc513dd4fde3a8dd841fcc525ba05071b43c30b4fcb9b6a882634318a1812a7956d645754c0ee90dd38659392825954727' +
    '1cae5e64525c3e55b1ba00fb768d02a03ff9ccd28238a14f1f3b7b47c1f1ac5098a57195ea79fa6921c3794153baa99096a0' +
    '1eb543d0e521f56ec2ef8295c914a0c1f318ce9fbbce5cb8613f920cc890bf19cb92501dd3bbcbebdb4a1dce0eba651af3fc' +
    '64838e6d207395d59ee1397d6a36a11fc17e3a0cff8484d680fe9101f714129e381f29d8c1762d2a60190eb36c427d20ef7b' +
    '8871a319ba8f4d5f85c31a377719e1c140c4cb21a201802ad51c101bfd5105275f111cda20a452924ad39f8ac85230bd6ef1' +
    '072e2fd1df63991707f129cd19006ac28e4ceb80688ce49925c80c9a937cf5e42d1521d1e33aa23d41212f0b9a2fb9dc89dd' +
    'c27f18914c4a7b31d29189b1f0275c1823f60d52d774faf7cfd15d71a9293dee333f6d77d1ed05fee55cd8d4a7cfd069bacc' +
    'bf84c8d770329619e64d6cb184935dbcee2b476502e0ef1f2f3c1812038557a2960a3d39b373e98ec3f67d643f018ecacc43' +
    '708bb42f9c06a5ef040f4cecd9922af0617524a2e59c968df2b46c004871bd50ff112670651d2402b8c01e1825efcaf61d63' +
    '8e4f9e3e3e2477c4c6409ef8424ea32176885e704f89fb1f4f70d80ac5def1207571389268ac1cd02f5d1339e2aa59dc1405' +
    'c275173410f885f18f42b01c64f49835f12c804bb919a0b8eba205c081b0d60c983df0f934d4f048988529b161ed9d10b746' +
    'ac6acbde86f415b004344f1bc90436aafc12998058adae44a201237c5f1520896c0831cbb67c7a0021bd587f7a5f50d4e12a' +
    'ecdf133dddec08ca3054a6fc289de0e7303bb7fd3f435e22d310d3107daf1bf1d751c58c57523cc9747c44fd9d383fe8979f' +
    'a6edb172de16f6df1cb9fa2f72ed7031a08f8b098d9ab86cc67c000e2b48fe19ce08631fac2988dea2209bdf6e8fc2fec771' +
    '5b71a10a05e1d7e0aefcaee8c3b9c93d71b3a08e1a5dbb8e45ff1d4eefd74adee457b59adf4958bb0d120afab82caf728d39' +
    '8c4b4ced965e5bfad1c03e49d1c179d3221c1f77f36c656aeef3fe9e31634885fc44831b63bf6e2d949d5a649b33e26cb353' +
    '07b3a7798d049fba389fd6e0cbd02e919efbfe3406b0c9c137ce3496b72632f9184340c89d0626453801194a441d1f6a6860' +
    '60ff13386f5be23c608281ee71ce7a231a3af9f3a725e68e14f5f61222ece44da72329edb5f50b15858fa6f48d584886b6c6' +
    '1cb0d7ad61ce14329a3380f706f82463297ea95beb03053c5131cccc9a64615826d8e39d7e0b4f553060552ea7c69a550525' +
    '0a8c2e66ead6bb9a055902aa421764996943957cfb520c3e1788dc8fa23028c2ed9de11540052a00864dc0245d0d3629f080' +
    'd68a67eb6830a50635e76eb27d5304d32ba0290d26055d7fc62ad2d80772035d740f54d99ea45f3b7c26d32615af10b5b391' +
    'e9be3b5b7189e1d3faaace0c2a0fcbe21d5ddd6dab8fefdba6e170a307e6501b8c37c43811d67cbf59ae742d7c7c49373ff7' +
    '24f5b22f9b25b89628b2512fa053510a27084bb6cd8af9dd01d088e4acf1ec3dfd71490c92aa553d5c1dd7effe1143cdc08d' +
    'c2efab1358048ebf2fd6ea4626c0af6c9e85daff1ef80a011c9f7ef6430a490bf06e1e79fd1cad11664c38a615c7cdf3b4bf' +
    '80a7bc679c632d83c0a08a2d2313b40c05cf791eddbde6754941dcda38956d273b94e85f63d55fc87b824882624403843b04' +
    '8f7efd5e6091519b93e098c69c77de5c394bbe2cc9f2bdbd823b7d7a69da0848e917d78dda338f4f284e836b1ff4adf51d92' +
    '05d650afc8a1a98d56a289df5fa20bc4cd914f9bc4fd7bf8374d46d9a666fb47b80f52c5076fa2b752fbd1abcaa4cb6b1303' +
    'f06e812344bec66c9d6d2a89d015de73369e8e834af1b66dc4315d5daf96da3e31b9db2f26af61f0d58ac0dbdb03cab2f016' +
    'f56f0896671bdfa35e4d3ec427a005db0be9c6c5a7f23ff05339caa31ce548e3c63c673738788086e266badb4964095062d0' +
    'bc304ee9452cedca5de55356d6786f2080e83da006b1ee4dbb96e5e82db0b4e663f9ea819a0d0c9dd55e5873b4b71e34d67f' +
    '73d41bef36e1fbfc8004fe3cab04536f48b2edeabdb5c166a08670203e119d6906e43cb6d58c669c71c147354a9ec89bfe6d' +
    '9fb2a346c81f5e5a81b73abf35b83e214f1ccc09150d21c9ae1aedff379dec232eec9ab7a89b78785d7f2725f3a222f23b66' +
    '2ecf0ef967b688df452083eff220309425824a69cc3ab73620ce5b65f5815896676a588b397223fbe54543fc4ec0451f6464' +
    '2d2de287b7af977d383ca9f5b80cf2f66749ce4df0aecb82f2967830c26104c6de2fdbf8735f8523974c466501d72b054325' +
    '5f06fce053660bdcc3d8da5b991a6391cabf3a1297d6bd272aae1f18349412f65288b550bdebe94e82a19ad474b41bde9366' +
    'cdcace0034f2b6fa8b1bbe81be3c7379d80549ec4db973e39dc8b8c8e83f7519e9d6dc272fc48349498c80a9e814b92f9476' +
    '9ac309d0d8ae06a7e4b9940630dd7d40edce117be6e75169b4ef2009e73856806362fa992c9b98d12c2f744b8b43c7cbb627' +
    'cf8763af5864cec8379c471e6395206409592d0e6cf19deb9e2ed86f23e715a49e9ed15729f8b1f3adaeced79ab3c8fb042d' +
    '7344b27ca714ae7393bbec50f3bc969e5921134f87c41c5db7e3171ea610e61ec30fa3673108aca98f78c8c96f9375fc039e' +
    'ecfeb7116f88daa4eab40e257a8e6c770bb6c5fd579b16678bd70db8720bf42b2fec2a1f03307d57c2d91b049e891a56a34d' +
    '9bc06bcac4a4ef0b59e32b7f4743196959aca239d2c9b205173cf5bc6548142ed8b7816840250113226f1ef5e9069fd4a2ee' +
    '5f43b3fb6f92d926346168c8420a7f2478cdaf913ecfd130b087238907f92ece95a6ed50c4cbafb124888c1e845f111886cc' +
    'df190f9ca50dbdf2e7f2addb3ff12259efbe3d91697627445202ded35b5a751b8f086bca8391ca7f611be148bfbc050d3144' +
    '848140caef1de870e95fc3c4b89b07aa5ade98811c49552dad21b0fc5eceb77b30cc0c786c491b2a6bd325aa67e96e99100a' +
    'ed47616d793adb58aff2f668bcab8637b16502daaed8c1a45a1bcf49acb41ed0abab752cbe7e17324b0c5853c406dbd1f10a' +
    '8becb006f70c119956238c43fa5d214a3b1f113baa2e3c86e82ac49d407f14d9f731659b1b36bddf2fc5fa0c0da8b1c6a273' +
    'a4ba351bef1575adef35dba88fb6124f59907dee8b13d2216f25145a38d5b696f6bcb5f5ba2bfe725fe21b192a70825ba745' +
    '20eaa07a082d206d74de900eb208108e510a9921ed9be3c6f33d4c80'],
  [8, 57,
    'af01de02004c61766335382e34322e31303000025cab59a98c72508b4caade1d71725c884208100e800cd59f716c4712cbb6' +
    '1671ec696024ccb96c3b3e97cef53ea3c8b61dbb29ceae386d06bd599ec4d6acb4d5dad4ec746cf52c93eb67d6d1afcd5f98' +
    'bf3554a4d6ac7563db8f6e8c3461a30c64c64c64c649a49a49b09a49a49a4691a49a499e6799e67691aa676f971e3f2f965c' +
    'b978f1e3c72e5cb145c78c51658a28a28a28a28a28a28a28a28a28a28a28a28a28a28a28a28a28a244514514514488888890' +
    '8ad610840a880e'],
  [9, 80,
    '270100005000000543419e427884bfef01e31f2831b501c925ed567f9ca67ba6d6ac992198dffd37bf344aa89525be4aaa41' +
    'dfc1e858da6e32cbed5f8d72df9889f988e2365fb3e341429542f397a81417347bea6bd9fbd0efbc60a1de34a24e82a0af94' +
    '65b305893194fa56cf5e69e30badf008ef0b9e9b1b1df7bb8cc13d63bd8383ff13e64a019f9229d24426114b8068b75c1f4a' +
    '2d06082dbe9e528665c69b5eb09c89ae8a925b5b7c43f7a4e703b4f386c3459c23d0eaef8e4a5786ab50d5120e5a23ec6c56' +
    '2cf4259a72a76da4ba32a77d4186b6252b03e7fcdf530fd531f8c8181360c24b6ff9afb1df0fe6ed3504729a286276f68e6f' +
    '76319eed289fd664a6e5621d826be4eb40e12dfe17265e333958e91c7da207d5ae5e4542778b6f50c714dcaee145e80b94e7' +
    'b52e2ea2f5e2b9edeb77c5ad694263309e47a26038d078cd9d6379daf5a27856e8c5929def168a894b4b8cba699d82602954' +
    '54b13c9a478bacc9cbb5fb2018e8295fca16079a72566329612268e6a2f71be75395163d64e5c9b7505d7f6b451f62a1138f' +
    '1216f5ec9903e70acf109950495982d4ede100b5f27cb429310ee583e47dd488084767962714016ea3204e1c9c92001f62d9' +
    'a3fa7dab1c3f92b3c6b4d1c0a8f086f0d78e7db48351cbfda89703cd91e5952dad3b080686a87ed2a440c7716532d68a0b03' +
    '134dfc7b9f05f9f960e2da33b150f972dad108c4bef9fc7f1be22777d1d044f3119b38e64c56546fc10eb0c231b90385879a' +
    '09632b651ef45ab3e36ebac9898050bbaccc4defd67a7ce522dd0fc5bb735de65b09fde5795f4d9f2ff0ad6d559437491e58' +
    '79bc6eec6996b9f03eaaa44e89470792712584c7ef30d3eab4f47770dba885d38edd48508a39286fb9cc395a1e214a599db3' +
    'd98bf7ab3a972d5f074486ae855ead8f122012fdcecd267e0c82ef185e4819bab38af236787f2f1d346f8ca3866415116b5c' +
    'b4d43a439d7f4b2b9e59330cf45b4cf711e1536e81b3ad039cfae820740ff2c102a9762a4e217cb92d3c51d7434040bdef51' +
    '03d31aef444499af8aa061f9db8c5234ff12a663d605699ae320bc9eb663ca28e2ac354f40f9e5676bab2ddd4829c58c0800' +
    'a081416a088f700069c4ed6b16a965daaeb703557cafcfd85b4c95686ee5ea4cb64a22dc18582f55d73ac8f01f7cb80dba42' +
    'caa0958fd92a7e51b675bbdc9603c8466e8089dfe0ce2f4c1cd9e1c2adcd429fe5a0f9708084c68b2932448891ef21a3052c' +
    'eb5f822b04522f3e998f8497a1a29ed19a6658dbc61a28d1885d9fdaf0ce2f7ae3f761289d2a60402c891663d8c5a15fdc29' +
    'c76e99bfef8ad46e8478f89250b0e28d43b738c4f0689fae452c00fd4ce64e33f7f61a67f44ae04a660dceb6c073ccebe6e5' +
    'dcb710e71d3e0d1399e89cfeb9c5568cd84056bfe50f83212b4a1893f5eeeaf9ffc4a8eb88f015f26aa0947c1eccdefa63ea' +
    '55587bb435558e14f07339c1e04ece4cb1295a23eb08e0145f17bdb7f644d71c8de2121cb4a9ff5759b13fd34d00d33b5d5a' +
    'a22b67b7026238c81ea1d80bb423c49991f10a7fa2ba77eb4f56d5a83d0155866c8be2abbf7dd96514271f6b97de4a883662' +
    'd064f490fe7e467bce296cf58fcb720f63ef471785796fb3a55e64588eaefce2b68601ac67bdd55d8fcc41b9db71341797e8' +
    '412cdb05e49cf267a7efd8d1fc470e84207715206214062e13df7a2ceb908e0e2b7161f5081a438db558d822a06fd4b354e1' +
    '97f1bc1a263ef7df9962e280b57c7c4a78e24cff72f7d47c7c9084503b0ec2b801d9d0cd3d84eb7bc0f7c67858b7b711a565' +
    '9b45046280ea1d089c8b9e05e351151822086f2fb1f59e952a52391308a09d7f2d5e02995de70299c256f43eac9a701975d7' +
    '4a9e98c94281'],
  [8, 80,
    'af01012298dad83dd6938076db22136a38461c9c5eae85f1abd5ff4d7b0f3e6d4ffc5fc3cf1f1656093c64ab22ab383956e8' +
    'c8583d707231dbf0d81e031cad4511e6e5506bba241b2380d904830364e127018dbb84cc0c0cee1270181997770969e51512' +
    '0c0bd784c1d44a2628147bd726b6ae6616ea946ada8930d74ea9b1adda4667732376146767767676766767ad9da49a49b1c3' +
    '1add9d9da49a499db1c29ad9c1818181818d848484dec73452ca1256e804ad6b749e0580deef1dfbcfbd1898d14a275d6b6d' +
    '36db1674d9d36332d13a274ce89094a552e0d35c'],
  [8, 103,
    'af010124f5ad0d126098005e7b675534924892240504085db4ee91f59ff49109089d6460ce23138e10d670f248964966c085' +
    'f15857c230f2793b707136c599911ebc2477706c71c7166077ae477706a71c7164077c3091c419a9c59901dde4771066c699' +
    '9901deb91dc4199be333befef29fe3e1b77dfdf464f1f8cc9f7f7d0ffc7c193efef09fe3e1b4fbfbe81f198cefbfbcaffc7c' +
    '369f4f784ff1f0dafdda23a3304fa7a6393e2b306a5521cf1628b43a76302482711809a204c0a09004284dc0'],
  [9, 120,
    '2701000000000003db019e617442dff021d1212c54e53c4e57e64712be2faf8222db139e8e8ba82dc93d6220335d18491a6f' +
    'bffd2287f7add5735b3228af6cbb925622ad385c59dc6953241be11e8ccd0faffc466b974e631cf5c97d8028d33895219635' +
    'fd6c389940e437e0c7c9613d8b1f1a61ad8ce15f8b36dd5d4f56b2ea1d8eee4be2799a2f71f45f7a4db9c9513953ec899b0e' +
    '3e0a3f74060c965d983be6b17b24f683e269d4fc90d2ac96210365f71a2ac8c5067a7bc7e380f41de4f55f5dbe1cf5c47233' +
    'a6946b093853b271edd682477e421f0802f4d140fa8910d7c3578a1a57b5ef17288a1b599bbb685e27e9345f44fdbaaaf26d' +
    '1e0342fc67583e497787c173963a7b85d492776c161fb73c374541fa4cf08fa59ed40027bd223b9f9b15d34407813e94b957' +
    'daf15f9c42eeeed7336919d2622b52b9bb78aa3a448cc29e681003a1e2204a1256541181561f5b56b1bf576ebef040c4d2c8' +
    'a8d1dce6a6e741085143438371c53afd5a145b4e1215bf627095a86f15e8bb4550fc3db1c49fb4639bb4afe1e8119842961f' +
    '91643b7be4fa392b139a967cecbd95c991fde201d5769a9db51b70521dc35390494fc1f074315017199f4d47f8bf2faf82eb' +
    '64dfaf71974f682d36ac3f52ed3c89c2e46dd6a9ea2ee98bbec38c5fed8a0825dfc35c7b970463675a60b2232683e1372648' +
    '868af4905a7898df74b3e62c3fdb9e9450aae02fe0d1faedbb7f5c746067b3094e60332e93a04a730eeaef4b3f0d6f996547' +
    '96be9b9d2f05ac9f511beef8855c57f40c24e5f713bc54355498a30e51b0a95b701be24cbd507cd00bbfdea74f9335b375d3' +
    '821e5a1cc5991c3313551c623e0436d51ef4d8722f3c393c9a8fd6e64d9d9cade25b2421fa26683da5c673bcc4e00aa4a717' +
    '6d8b124415c94eb956eca08e4899783a26b4938756e041b72d2e3fc5400820bc0eb0c47e1e4e8151b375dcebc16578ac8cf4' +
    'b1e220f66245f97ce3c8aeccdea696167f56f52c737e083694ca2f001aa9e8e5d9a03bcc4b86b9afcbdfe3c8ee78cad91b75' +
    'f4162540fec8f92fc57e1af5ea68b3b9e63f6b893b70578e2abbb6a36663f70ba66e14d2dbd39b8dc7f13936d1e3250a57f9' +
    '65f5c0b7d8bba6cd1172008bc851a83ce44d0a02718a95d79d3a3767a29770bf511e301069eb2cf5e1ae60802b5d80dd5d29' +
    '09fc54cf926fab4eca6d3402b3deabe196d34d05e188bfd66cf32b46e670adc6571e8f5cac9b6abe552f9fa9b076cde86e97' +
    'd6eee7886512a692593d29d87b6ecd92c04c343c0be698ce2eea37d2fed401fd2691387827472bf4c131c07c64d7b258208d' +
    'fcd26ad6feb498a9d43dd006da836fa15f0446e072d6739f9844b6547d9285e3670d00856260bbb9e2ccbd850adf'],
  [8, 126,
    'af0100e435acece80b110a2c78cfc8f3ae26844a8a855294a14a5285b578ad385b4aa135213d443a7f3923f998e3447bb8b8' +
    '492bf8f0e3c3e9c38f0e3c3d5ede32689297474aa89281696654d46200ecd5ffcc278323b6c734224259c66d2be7244e4552' +
    '4568769ef92e87429551d0826a9501c048900a7d216bed4b1b09199da178dbaac6614c666ee422c302f52dcf2b71f7d1e482' +
    '4d3df1bc9c3b2579ec8ce728c31dbd97bace32dcbf8b7ca452f852ed494e7694959d25f69f2e1f8e88ae09ce088425301048' +
    'ac5c'],
  [8, 150,
    'af0100e635acd0d63a0c4a81143d3f347c6b52e112a32caaa528294aa0a76e661526ea918a5506b4833e7b91e81f1e08c1c5' +
    '66ab0e0dfc1bf2a4e0c32a8a50a50a498935430430060588c2244b2c234520c8d2ace6244e32304e477a579bb7668602764a' +
    '8c29ac54471b10549f08263a60d684b1090c011a3576f371b46144819b33c352b550f9c3290b28a4acd9c5aeee5683e55aee' +
    '9fcaf407e9357656fa50cfb144c61adedc0a535a7ab7678d37c9ae0510cd0bba571b32acb368449a740760b008a8e0'],
];
const realMessages = () => REAL_TAGS.map(([type, timestamp, h]) => ({ type, timestamp, body: fromHex(h) }));

/**
 * hvcC of a real libx265 stream (320x240 Main, level 60), made at authoring time with
 *   ffmpeg -f lavfi -i testsrc2=size=320x240:rate=25 -t 1 -c:v libx265 -tag:v hvc1 x.mp4
 * The 23-byte header and the VPS/SPS/PPS arrays are as x265 wrote them; its 2 KB SEI array
 * (encoder settings text) is replaced by a short one so the decoder still has to skip an array.
 */
const HEVC_VPS = '40010c01ffff01600000030090000003000003003c959809';
const HEVC_SPS = '42010101600000030090000003000003003ca00a080f165959a4932bc04040000003004000000642';
const HEVC_PPS = '4401c172b46240';
const HVCC =
  '0101600000009000000000003cf000fcfdf8f800000f04' +
  'a00001' + '0018' + HEVC_VPS +
  'a10001' + '0028' + HEVC_SPS +
  'a20001' + '0007' + HEVC_PPS +
  '270001' + '0004' + '4e0105ff';
/** AVCC-framed HEVC access unit: IDR_W_RADL slice (type 19) + a second slice segment. */
const HEVC_IDR_AU = '00000006' + '2601af0c5512' + '00000004' + '2601ff00';
/** TRAIL_R (type 1) access unit. */
const HEVC_P_AU = '00000005' + '0201d00a33';

function asPacket(r: RtmpIngestResult): AvPacket {
  if (r.kind !== 'packet') throw new Error(`expected a packet, got ${r.kind}${r.kind === 'ignore' ? `: ${r.reason}` : ''}`);
  return r.packet;
}
function asTracks(r: RtmpIngestResult): TrackInfo {
  if (r.kind !== 'tracks') throw new Error(`expected tracks, got ${r.kind}${r.kind === 'ignore' ? `: ${r.reason}` : ''}`);
  return r.tracks;
}
/** A packet as the non-RTMP inputs would hand it over: no flvBody. */
const withoutFlvBody = (p: AvPacket): AvPacket => ({ ...p, flvBody: undefined });

describe('RtmpToAv over a real ffmpeg H.264/AAC FLV', () => {
  const msgs = realMessages();
  const ingest = new RtmpToAv();
  const results = msgs.map((m) => ingest.push(m));

  test('metadata, video and audio sequence headers give tracks', () => {
    expect(results.slice(0, 3).map((r) => r.kind)).toEqual(['tracks', 'tracks', 'tracks']);
    const t = ingest.tracks;
    expect(t.metadata).toBe(msgs[0].body);
    expect(decodeAmf0All(t.metadata!)[0]).toBe('onMetaData');
    const v = t.video!;
    expect([v.codec, v.width, v.height, v.profile, v.level]).toEqual(['h264', 320, 240, 'High', 13]);
    expect(v.sps.map(toHex)).toEqual(['6764000dacd94141fb011000000300100000030320f1429960']);
    expect(v.pps.map(toHex)).toEqual(['68ebe3cb22c0']);
    expect(v.vps).toBeUndefined();
    expect(v.flvSeqHeader).toBe(msgs[1].body);
    expect(toHex(v.config!)).toBe(toHex(msgs[1].body.subarray(5)));
    const a = t.audio!;
    expect([a.codec, a.sampleRate, a.channels, toHex(a.asc!)]).toEqual(['aac', 44100, 1, '120856e500']);
    expect(a.flvSeqHeader).toBe(msgs[2].body);
  });

  test('tracks identity changes with every tracks result and only then', () => {
    const seen = results.filter((r) => r.kind === 'tracks').map((r) => asTracks(r));
    expect(new Set(seen).size).toBe(3);
    expect(seen[2]).toBe(ingest.tracks);
    expect(seen[0].video).toBeUndefined();
    expect(seen[1].audio).toBeUndefined();
  });

  test('video packets: timestamps ×90 with composition time, key flag, AVCC units', () => {
    const video = results.slice(3).filter((r) => r.kind === 'packet' && r.packet.kind === 'video').map(asPacket);
    expect(video.map((p) => [p.dts, p.pts, p.key])).toEqual([
      [0, 80 * 90, true],
      [40 * 90, 240 * 90, false],
      [80 * 90, 160 * 90, false],
      [120 * 90, 120 * 90, false],
    ]);
    const kf = video[0];
    expect(kf.codec).toBe('h264');
    expect(kf.units.map((u) => u[0] & 0x1f)).toEqual([6, 5]); // SEI, IDR
    expect(kf.units[0].length).toBe(0x2ac);
    // units are views into the message body, never copies
    for (const u of kf.units) expect(u.buffer).toBe(kf.flvBody!.buffer);
    expect(kf.flvBody).toBe(msgs[3].body);
  });

  test('audio packets: raw AAC frames after the sequence header', () => {
    const audio = results.filter((r) => r.kind === 'packet' && r.packet.kind === 'audio').map(asPacket);
    expect(audio.map((p) => p.dts / 90)).toEqual([57, 80, 103, 126, 150]);
    for (const p of audio) {
      expect([p.codec, p.key, p.pts]).toEqual(['aac', true, p.dts]);
      expect(p.units.length).toBe(1);
      expect(toHex(p.units[0])).toBe(toHex(p.flvBody!.subarray(2)));
    }
  });

  test('avPacketToFlvBody returns flvBody, and rebuilding without it is byte-exact', () => {
    const packets = results.filter((r) => r.kind === 'packet').map(asPacket);
    expect(packets.length).toBe(9);
    for (const p of packets) {
      expect(avPacketToFlvBody(p)).toBe(p.flvBody!);
      expect(toHex(avPacketToFlvBody(withoutFlvBody(p)))).toBe(toHex(p.flvBody!));
      expect(flvTagTypeOf(p)).toBe(p.kind === 'video' ? 9 : 8);
    }
    const tsOf = packets.map(flvTimestampOf);
    expect(tsOf).toEqual(msgs.slice(3).map((m) => m.timestamp));
  });

  test('sequence header bodies: the received ones, and rebuilt from the parameter sets byte-exactly', () => {
    const { video, audio } = ingest.tracks;
    expect(videoSeqHeaderBody(video!)).toBe(msgs[1].body);
    expect(audioSeqHeaderBody(audio!)).toBe(msgs[2].body);
    expect(toHex(videoSeqHeaderBody({ ...video!, flvSeqHeader: undefined }))).toBe(toHex(msgs[1].body));
    expect(toHex(videoSeqHeaderBody({ ...video!, flvSeqHeader: undefined, config: undefined }))).toBe(toHex(msgs[1].body));
    expect(toHex(audioSeqHeaderBody({ ...audio!, flvSeqHeader: undefined })!)).toBe(toHex(msgs[2].body));
  });

  test('a rebuilt stream ingests to the same packets and tracks', () => {
    const again = new RtmpToAv();
    const { video, audio } = ingest.tracks;
    again.push({ type: 9, timestamp: 0, body: videoSeqHeaderBody({ ...video!, flvSeqHeader: undefined, config: undefined }) });
    again.push({ type: 8, timestamp: 0, body: audioSeqHeaderBody({ ...audio!, flvSeqHeader: undefined })! });
    expect({ ...again.tracks.video, flvSeqHeader: 0, config: 0 }).toEqual({ ...video!, flvSeqHeader: 0, config: 0 });
    for (const p of results.filter((r) => r.kind === 'packet').map(asPacket)) {
      const q = asPacket(again.push({ type: flvTagTypeOf(p), timestamp: flvTimestampOf(p), body: avPacketToFlvBody(withoutFlvBody(p)) }));
      expect({ ...q, flvBody: 0, units: q.units.map(toHex) }).toEqual({ ...p, flvBody: 0, units: p.units.map(toHex) });
    }
  });

  test('a repeated sequence header is ignored; a changed one gives new tracks', () => {
    const r = new RtmpToAv();
    r.push(msgs[1]);
    const t1 = r.tracks;
    const again = r.push({ ...msgs[1], body: msgs[1].body.slice() });
    expect(again).toEqual({ kind: 'ignore', reason: 'repeated video sequence header' });
    expect(r.tracks).toBe(t1);
    expect(r.push(msgs[2]).kind).toBe('tracks');
    expect(r.push(msgs[2]).kind).toBe('ignore');
    // a different PPS list makes a different header
    const changed = fromHex('1700000000' + '0164000dffe1' + '0019' + '6764000dacd94141fb011000000300100000030320f1429960' + '02' + '000668ebe3cb22c0' + '000268ee');
    const t2 = asTracks(r.push({ type: 9, timestamp: 500, body: changed }));
    expect(t2).not.toBe(t1);
    expect(t2.video!.pps.map(toHex)).toEqual(['68ebe3cb22c0', '68ee']);
    expect(t2.audio).toBe(r.tracks.audio!);
  });
});

describe('RtmpToAv classic AVC and raw AAC (the unparsed fast path) agree with the general path', () => {
  const seqH264 = (prefix: string) => fromHex(`${prefix}0164000dffe100196764000dacd94141fb011000000300100000030320f142996001000668ebe3cb22c0`);
  const IDR = '00000005' + '6588840011';
  const SEI_P = '00000003' + '06aabb' + '00000004' + '419a2201';

  test('classic frames (fast path) equal enhanced avc1 CodedFrames (parsed header) for every frame type and composition time', () => {
    const c = new RtmpToAv();
    const e = new RtmpToAv();
    c.push({ type: 9, timestamp: 0, body: seqH264('1700000000') });
    e.push({ type: 9, timestamp: 0, body: seqH264('90' + fc('avc1')) });
    const strip = (p: AvPacket) => ({ ...p, flvBody: 0, units: p.units.map(toHex) });
    let n = 0;
    for (const frameType of [1, 2, 3, 4]) {
      for (const cts of ['000000', '000050', 'ffffd8', '7fffff', '800000']) {
        for (const au of [IDR, SEI_P]) {
          const ts = 1000 + 40 * n++;
          const pc = asPacket(c.push({ type: 9, timestamp: ts, body: fromHex(`${frameType}701${cts}${au}`) }));
          const pe = asPacket(e.push({ type: 9, timestamp: ts, body: fromHex(`${(0x80 | (frameType << 4) | 1).toString(16)}${fc('avc1')}${cts}${au}`) }));
          expect(strip(pc)).toEqual(strip(pe));
          expect(pc.key).toBe(frameType === 1 || au === IDR);
          const ctsMs = (parseInt(cts, 16) << 8) >> 8;
          expect(pc.pts - pc.dts).toBe(ctsMs * 90);
        }
      }
    }
  });

  test('a command frame (type 5), an empty or sequence-header AVC tag never take the fast path', () => {
    const r = new RtmpToAv();
    r.push({ type: 9, timestamp: 0, body: seqH264('1700000000') });
    expect(asPacket(r.push({ type: 9, timestamp: 0, body: fromHex('5701000000') })).codec).toBe('other');
    expect(r.push({ type: 9, timestamp: 0, body: fromHex('2701000000') }).kind).toBe('ignore');
    expect(r.push({ type: 9, timestamp: 0, body: fromHex('2702000000') }).kind).toBe('packet'); // end of sequence
  });

  test('raw AAC frames with any rate/size/channel bits; before the sequence header they are ignored', () => {
    const r = new RtmpToAv();
    expect(r.push({ type: 8, timestamp: 0, body: fromHex('af01aabb') }).kind).toBe('ignore');
    r.push({ type: 8, timestamp: 0, body: fromHex('af00120856e500') });
    for (const b0 of ['a0', 'a5', 'aa', 'af']) {
      const body = fromHex(`${b0}01aabbcc`);
      const p = asPacket(r.push({ type: 8, timestamp: 23, body }));
      expect([p.kind, p.codec, p.dts, p.pts, p.key, p.units.map(toHex)]).toEqual(['audio', 'aac', 23 * 90, 23 * 90, true, ['aabbcc']]);
      expect(p.flvBody).toBe(body);
      expect(p.units[0].buffer).toBe(body.buffer);
    }
    expect(r.push({ type: 8, timestamp: 0, body: fromHex('af01') }).kind).toBe('ignore');
  });
});

describe('RtmpToAv metadata', () => {
  const meta = realMessages()[0].body;
  test('@setDataFrame is stripped, giving the same metadata bytes', () => {
    const r = new RtmpToAv();
    const t = asTracks(r.push({ type: 18, timestamp: 0, body: addSetDataFrame(meta) }));
    expect(toHex(t.metadata!)).toBe(toHex(meta));
    expect(toHex(stripSetDataFrame(meta))).toBe(toHex(meta));
    expect(toHex(addSetDataFrame(addSetDataFrame(meta)).subarray(0, 16))).toBe(toHex(AMF0_SET_DATA_FRAME));
    expect(addSetDataFrame(meta).length).toBe(meta.length + 16);
  });
  test('|RtmpSampleAccess and an empty @setDataFrame are ignored', () => {
    const r = new RtmpToAv();
    const sampleAccess = fromHex('0200117c52746d7053616d706c6541636365737301010101');
    expect(r.push({ type: 18, timestamp: 0, body: sampleAccess })).toEqual({ kind: 'ignore', reason: '|RtmpSampleAccess' });
    expect(r.push({ type: 18, timestamp: 0, body: AMF0_SET_DATA_FRAME }).kind).toBe('ignore');
    expect(r.tracks.metadata).toBeUndefined();
  });
});

describe('RtmpToAv HEVC: classic (codec id 12) and enhanced (hvc1) headers give identical tracks', () => {
  const classicSeq = fromHex('1c00000000' + HVCC);
  const enhancedSeq = fromHex('90' + fc('hvc1') + HVCC);

  test.each([
    ['classic', classicSeq],
    ['enhanced', enhancedSeq],
  ])('%s sequence header', (_n, body) => {
    const r = new RtmpToAv();
    const v = asTracks(r.push({ type: 9, timestamp: 0, body })).video!;
    expect([v.codec, v.width, v.height, v.profile, v.level]).toEqual(['h265', 320, 240, 'Main', 60]);
    expect([v.vps!.map(toHex), v.sps.map(toHex), v.pps.map(toHex)]).toEqual([[HEVC_VPS], [HEVC_SPS], [HEVC_PPS]]);
    expect(toHex(v.config!)).toBe(HVCC);
    expect(v.flvSeqHeader).toBe(body);
  });

  test('classic, enhanced CodedFrames and CodedFramesX frames give the same packets', () => {
    const frames: [string, string, string][] = [
      // [classic, enhanced CodedFrames, enhanced CodedFramesX (cts 0 only)]
      ['1c01000050' + HEVC_IDR_AU, '91' + fc('hvc1') + '000050' + HEVC_IDR_AU, ''],
      ['2c01ffffd8' + HEVC_P_AU, 'a1' + fc('hvc1') + 'ffffd8' + HEVC_P_AU, ''],
      ['2c01000000' + HEVC_P_AU, 'a1' + fc('hvc1') + '000000' + HEVC_P_AU, 'a3' + fc('hvc1') + HEVC_P_AU],
    ];
    const c = new RtmpToAv();
    const e = new RtmpToAv();
    const x = new RtmpToAv();
    c.push({ type: 9, timestamp: 0, body: classicSeq });
    e.push({ type: 9, timestamp: 0, body: enhancedSeq });
    x.push({ type: 9, timestamp: 0, body: enhancedSeq });
    const strip = (p: AvPacket) => ({ ...p, flvBody: 0, units: p.units.map(toHex) });
    frames.forEach(([ch, eh, xh], i) => {
      const ts = 1000 + i * 40;
      const pc = asPacket(c.push({ type: 9, timestamp: ts, body: fromHex(ch) }));
      const pe = asPacket(e.push({ type: 9, timestamp: ts, body: fromHex(eh) }));
      expect(strip(pe)).toEqual(strip(pc));
      expect(pc.codec).toBe('h265');
      // enhanced tags are forwarded unchanged; rebuilt ones use legacy id 12 (docs/media.md §1)
      expect(toHex(avPacketToFlvBody(pe))).toBe(eh);
      expect(toHex(avPacketToFlvBody(withoutFlvBody(pe)))).toBe(ch);
      if (xh) expect(strip(asPacket(x.push({ type: 9, timestamp: ts, body: fromHex(xh) })))).toEqual(strip(pc));
    });
    const first = asPacket(c.push({ type: 9, timestamp: 0, body: fromHex(frames[0][0]) }));
    expect([first.key, first.pts - first.dts, first.units.length]).toEqual([true, 80 * 90, 2]);
    const second = asPacket(c.push({ type: 9, timestamp: 40, body: fromHex(frames[1][0]) }));
    expect([second.key, second.pts - second.dts]).toEqual([false, -40 * 90]);
  });

  test('an IRAP slice makes a key packet even when the frame type says inter', () => {
    const r = new RtmpToAv();
    r.push({ type: 9, timestamp: 0, body: classicSeq });
    expect(asPacket(r.push({ type: 9, timestamp: 0, body: fromHex('2c01000000' + HEVC_IDR_AU) })).key).toBe(true);
  });

  test('the rebuilt HEVC sequence header ingests to the same track', () => {
    const r = new RtmpToAv();
    const v = asTracks(r.push({ type: 9, timestamp: 0, body: enhancedSeq })).video!;
    const rebuilt = videoSeqHeaderBody({ ...v, flvSeqHeader: undefined, config: undefined });
    expect(toHex(rebuilt.subarray(0, 5))).toBe('1c00000000');
    const v2 = asTracks(new RtmpToAv().push({ type: 9, timestamp: 0, body: rebuilt })).video!;
    expect({ ...v2, flvSeqHeader: 0, config: 0 }).toEqual({ ...v, flvSeqHeader: 0, config: 0 });
  });
});

describe('RtmpToAv unknown enhanced FourCC (docs/quirks.md Q-RTMP-1)', () => {
  test('av01 is forwarded opaquely as codec other', () => {
    const r = new RtmpToAv();
    const seq = fromHex('90' + fc('av01') + '81000c00');
    const t = asTracks(r.push({ type: 9, timestamp: 0, body: seq }));
    expect(t.video).toMatchObject({ codec: 'other', width: 0, height: 0, sps: [], pps: [] });
    expect(t.video!.flvSeqHeader).toBe(seq);
    expect(videoSeqHeaderBody(t.video!)).toBe(seq);
    const frame = fromHex('91' + fc('av01') + '12000a0b');
    const p = asPacket(r.push({ type: 9, timestamp: 33, body: frame }));
    expect(p).toEqual({ kind: 'video', codec: 'other', dts: 33 * 90, pts: 33 * 90, key: true, units: [], flvBody: frame });
    expect(avPacketToFlvBody(p)).toBe(frame);
    // SequenceEnd is forwarded to RTMP/FLV (as LAL does) but is never a key frame.
    expect(r.push({ type: 9, timestamp: 66, body: fromHex('92' + fc('av01')) })).toMatchObject({ kind: 'packet', packet: { codec: 'other', key: false, units: [] } });
  });

  test('enhanced Metadata and classic non-AVC codecs are opaque packets too', () => {
    const r = new RtmpToAv();
    const meta = fromHex('94' + fc('hvc1') + '02000a636f6c6f72496e666f');
    expect(asPacket(r.push({ type: 9, timestamp: 0, body: meta }))).toMatchObject({ codec: 'other', units: [], key: true });
    const vp6 = fromHex('24' + '00ff');
    expect(asPacket(r.push({ type: 9, timestamp: 0, body: vp6 }))).toMatchObject({ codec: 'other', key: false, flvBody: vp6 });
  });
});

describe('RtmpToAv audio codecs', () => {
  test.each([
    ['g711a', '72', 8000, 1],
    ['g711u', '82', 8000, 1],
    ['opus', 'df', 48000, 2],
  ] as const)('%s: the first message sets tracks.audio and is a packet', (codec, first, rate, ch) => {
    const r = new RtmpToAv();
    const body = fromHex(first + 'd5d4d7d6');
    const res = r.push({ type: 8, timestamp: 20, body });
    expect(res.kind).toBe('packet');
    if (res.kind !== 'packet') return;
    expect(res.tracksChanged).toBe(r.tracks);
    expect(r.tracks.audio).toEqual({ codec, sampleRate: rate, channels: ch });
    expect(res.packet).toMatchObject({ kind: 'audio', codec, dts: 1800, pts: 1800, key: true });
    expect(res.packet.units.map(toHex)).toEqual(['d5d4d7d6']);
    expect(toHex(avPacketToFlvBody(withoutFlvBody(res.packet)))).toBe(toHex(body));
    const t = r.tracks;
    const second = r.push({ type: 8, timestamp: 40, body });
    expect(second.kind === 'packet' && second.tracksChanged).toBe(undefined);
    expect(r.tracks).toBe(t);
  });

  test('MP3 and other sound formats pass as packets without changing tracks', () => {
    const r = new RtmpToAv();
    expect(asPacket(r.push({ type: 8, timestamp: 0, body: fromHex('2ffffb9064') }))).toMatchObject({ codec: 'mp3', units: [fromHex('fffb9064')] });
    expect(asPacket(r.push({ type: 8, timestamp: 0, body: fromHex('6a0011') }))).toMatchObject({ codec: 'other', units: [] });
    expect(asPacket(r.push({ type: 8, timestamp: 0, body: fromHex('90' + fc('Opus') + '00') }))).toMatchObject({ codec: 'other' });
    expect(r.tracks.audio).toBeUndefined();
  });
});

describe('RtmpToAv ignores and errors', () => {
  test.each([
    ['empty video', 9, '', 'empty video message'],
    ['empty audio', 8, '', 'empty audio message'],
    ['short AVC header', 9, '170100', 'video: flv: AVC/HEVC video tag header: need 4 bytes at offset 1, have 2'],
    ['empty AVC sequence header', 9, '1700000000', 'empty video sequence header'],
    ['AVC frame without data', 9, '1701000000', 'empty video frame'],
    ['AVC frame of zero-length NALs', 9, '170100000000000000', 'video frame without NAL units'],
    ['malformed AVCC lengths', 9, '1701000000000000ff41', 'video frame: avcc: NAL length 255 at offset 0 runs past the end (1 bytes left)'],
    ['short AAC header', 8, 'af', 'audio: flv: AAC audio tag header: need 1 bytes at offset 1, have 0'],
    ['empty AAC sequence header', 8, 'af00', 'empty AAC sequence header'],
    ['empty AAC frame', 8, 'af01', 'empty AAC frame'],
    ['AAC before its sequence header', 8, 'af012110', 'AAC frame before the AAC sequence header'],
    ['empty G.711 frame', 8, '72', 'empty g711a frame'],
    ['AMF0 command', 20, '02000463616c6c', 'message type 20 is not media'],
  ])('%s', (_n, type, h, reason) => {
    expect(new RtmpToAv().push({ type, timestamp: 0, body: fromHex(h) })).toEqual({ kind: 'ignore', reason });
  });

  test.each([
    ['ffmpeg end of sequence (lal#115)', '1702000000'],
    ['enhanced SequenceEnd', '92' + fc('hvc1')],
  ])('%s passes to RTMP/FLV as a non-key opaque packet', (_n, h) => {
    const body = fromHex(h);
    expect(new RtmpToAv().push({ type: 9, timestamp: 7, body })).toEqual({
      kind: 'packet',
      packet: { kind: 'video', codec: 'other', dts: 630, pts: 630, key: false, units: [], flvBody: body },
    });
  });

  test('NAL length size comes from the config record (2-byte lengths)', () => {
    const r = new RtmpToAv();
    const avcc2 = '0164000dfde1' + '0019' + '6764000dacd94141fb011000000300100000030320f1429960' + '01' + '000668ebe3cb22c0';
    r.push({ type: 9, timestamp: 0, body: fromHex('1700000000' + avcc2) });
    const p = asPacket(r.push({ type: 9, timestamp: 0, body: fromHex('1701000000' + '0003' + '65aabb' + '0002' + '0601') }));
    expect(p.units.map(toHex)).toEqual(['65aabb', '0601']);
    expect(p.key).toBe(true);
    // rebuilt bodies always use 4-byte lengths
    expect(toHex(avPacketToFlvBody(withoutFlvBody(p)))).toBe('1701000000' + '00000003' + '65aabb' + '00000002' + '0601');
  });

  test.each([
    ['AVC record with a bad version', 9, '1700000000' + '0264000dffe100'],
    ['AVC record cut inside the SPS', 9, '1700000000' + '0164000dffe1001967640d'],
    ['AVC record without SPS', 9, '1700000000' + '0164000dffe000'],
    ['HEVC record too short', 9, '1c00000000' + '0101'],
    ['bad ASC', 8, 'af00' + 'f8'],
  ])('malformed sequence header throws ParseError: %s', (_n, type, h) => {
    expect(() => new RtmpToAv().push({ type, timestamp: 0, body: fromHex(h) })).toThrow(ParseError);
  });

  test('hostile input: truncations of every real tag and 200 random bodies only throw ParseError', () => {
    let threw = 0;
    const attempt = (r: RtmpToAv, type: number, body: Uint8Array) => {
      try {
        r.push({ type, timestamp: 0, body });
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        threw++;
      }
    };
    const all = [...realMessages(), { type: 9, timestamp: 0, body: fromHex('1c00000000' + HVCC) }, { type: 9, timestamp: 0, body: fromHex('90' + fc('hvc1') + HVCC) }];
    for (const m of all) {
      for (let n = 0; n <= m.body.length; n += m.body.length > 600 ? 37 : 1) {
        const r = new RtmpToAv();
        r.push(all[1]);
        r.push(all[2]);
        attempt(r, m.type, m.body.subarray(0, n));
      }
    }
    const rnd = mulberry32(1234);
    const prefixes = ['17', '27', '1c', '2c', '90' + fc('hvc1'), '91' + fc('hvc1'), 'af', 'df', '72', '02000a6f6e'];
    for (let i = 0; i < 200; i++) {
      const pre = fromHex(prefixes[i % prefixes.length]);
      const tail = randomBytes(rnd, Math.floor(rnd() * 80));
      const body = new Uint8Array(pre.length + 1 + tail.length);
      body.set(pre);
      body[pre.length] = i % 3; // packet type 0 seq, 1 frame, 2 eos
      body.set(tail, pre.length + 1);
      const type = pre[0] === 0x02 ? 18 : pre[0] === 0xaf || pre[0] === 0xdf || pre[0] === 0x72 ? 8 : 9;
      const r = new RtmpToAv();
      attempt(r, type, body);
      attempt(r, type, body); // again, with whatever state the first push left
    }
    expect(threw).toBeGreaterThan(0);
  });
});
