<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AnalysisWorker</name>
    <message>
        <location filename="../worker.py" line="327"/>
        <source>{0}: has no readable frame</source>
        <translation>{0}：没有可读取的帧</translation>
    </message>
    <message>
        <location filename="../worker.py" line="608"/>
        <source>analysis failed: {0}</source>
        <translation>分析失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="619"/>
        <source>rendering failed: {0}</source>
        <translation>绘制失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="667"/>
        <source>recording failed: {0}</source>
        <translation>录制失败：{0}</translation>
    </message>
</context>
<context>
    <name>ChannelBarChart</name>
    <message>
        <location filename="../worker.py" line="702"/>
        <source>Channel attention</source>
        <translation>通道注意力</translation>
    </message>
    <message>
        <location filename="../panels.py" line="344"/>
        <source>no GAM channel attention to show</source>
        <translation>没有可显示的 GAM 通道注意力</translation>
    </message>
    <message>
        <location filename="../panels.py" line="378"/>
        <source>channel {0}: {1:.4f}</source>
        <translation>通道 {0}：{1:.4f}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="705"/>
        <source>Channel attention: {0}</source>
        <translation>通道注意力：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="707"/>
        <source>Channel attention, GAM layer {0} ({1} channels)</source>
        <translation>通道注意力，GAM 层 {0}（{1} 个通道）</translation>
    </message>
</context>
<context>
    <name>ControlPanel</name>
    <message>
        <location filename="../controls.py" line="42"/>
        <source>All detections</source>
        <translation>全部检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="42"/>
        <source>Class scores</source>
        <translation>类别分数</translation>
    </message>
    <message>
        <location filename="../controls.py" line="42"/>
        <source>Box outputs</source>
        <translation>边框输出</translation>
    </message>
    <message>
        <location filename="../controls.py" line="42"/>
        <source>Clicked object</source>
        <translation>点击的目标</translation>
    </message>
    <message>
        <location filename="../controls.py" line="42"/>
        <source>Class id</source>
        <translation>类别编号</translation>
    </message>
    <message>
        <location filename="../controls.py" line="47"/>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="47"/>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="150"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="152"/>
        <source>Open weights...</source>
        <translation>打开权重…</translation>
    </message>
    <message>
        <location filename="../controls.py" line="153"/>
        <source>Load a gam-gui, YOLOv5 or YOLOv7 checkpoint (.pt); you can also drop it here</source>
        <translation>加载 gam-gui、YOLOv5 或 YOLOv7 权重文件（.pt）；也可以直接拖放到这里</translation>
    </message>
    <message>
        <location filename="../controls.py" line="376"/>
        <source>no model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="159"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="162"/>
        <source>Classes:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="165"/>
        <source>GAM:</source>
        <translation>GAM：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="170"/>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="174"/>
        <source>Detection</source>
        <translation>检测</translation>
    </message>
    <message>
        <location filename="../controls.py" line="178"/>
        <source>Confidence threshold</source>
        <translation>置信度阈值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="179"/>
        <source>Confidence:</source>
        <translation>置信度：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="182"/>
        <source>NMS IoU threshold</source>
        <translation>NMS 的 IoU 阈值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="183"/>
        <source>IoU:</source>
        <translation>IoU：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="188"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location filename="../controls.py" line="189"/>
        <source>Inference size (the long side of the network input)</source>
        <translation>推理尺寸（网络输入的长边）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="191"/>
        <source>Image size:</source>
        <translation>图像尺寸：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="195"/>
        <source>Explanation (CAM)</source>
        <translation>解释（CAM）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="199"/>
        <source>none (off)</source>
        <translation>无（关闭）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="200"/>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="203"/>
        <source>Layers whose CAMs are averaged; none selected = the GAM blocks (or the layers feeding the head). Ctrl/Shift-click to choose several.</source>
        <translation>对这些层的 CAM 取平均；不选 = 使用 GAM 模块（或检测头的输入层）。按住 Ctrl/Shift 点击可多选。</translation>
    </message>
    <message>
        <location filename="../controls.py" line="209"/>
        <source>Layers (index, type, shape):</source>
        <translation>层（序号、类型、形状）：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="211"/>
        <source>Default layers</source>
        <translation>默认层</translation>
    </message>
    <message>
        <location filename="../controls.py" line="212"/>
        <source>Clear the selection: use the GAM blocks</source>
        <translation>清除选择：使用 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="218"/>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="222"/>
        <source>The detection the CAM explains (click a box to choose it)</source>
        <translation>CAM 要解释的检测框（点击检测框即可选中）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="223"/>
        <source>Object:</source>
        <translation>目标编号：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="225"/>
        <source>Explain every detection of this class</source>
        <translation>解释该类别的全部检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="226"/>
        <source>Class:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="227"/>
        <source>Renormalise inside boxes</source>
        <translation>在检测框内重新归一化</translation>
    </message>
    <message>
        <location filename="../controls.py" line="231"/>
        <source>On a playing video or camera, compute the CAM only every N frames (detections and GAM maps still every frame)</source>
        <translation>播放视频或摄像头时，每 N 帧才计算一次 CAM（检测和 GAM 图仍然每帧计算）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="233"/>
        <source>CAM every N frames:</source>
        <translation>CAM 每 N 帧：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="237"/>
        <source>Display</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../controls.py" line="360"/>
        <source>first</source>
        <translation>第一个</translation>
    </message>
    <message>
        <location filename="../controls.py" line="241"/>
        <source>Which GAM block the GAM panels and the channel chart show</source>
        <translation>GAM 面板和通道图显示哪个 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="242"/>
        <source>GAM block:</source>
        <translation>GAM 模块：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="246"/>
        <source>How the GAM maps are reduced over channels</source>
        <translation>GAM 图在通道维度上的合并方式</translation>
    </message>
    <message>
        <location filename="../controls.py" line="247"/>
        <source>Channel reduction:</source>
        <translation>通道合并：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="251"/>
        <source>Colormap:</source>
        <translation>色图：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="254"/>
        <source>Overlay alpha:</source>
        <translation>叠加透明度：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="337"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../controls.py" line="339"/>
        <source>{0} GAM block(s) at layer(s) {1}</source>
        <translation>{0} 个 GAM 模块，位于第 {1} 层</translation>
    </message>
    <message>
        <location filename="../controls.py" line="343"/>
        <source>no GAM blocks found: the GAM panels stay empty; the CAM uses the layers feeding the head ({0})</source>
        <translation>未找到 GAM 模块：GAM 面板保持空白；CAM 使用检测头的输入层（{0}）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="356"/>
        <source>a GAM block (used by default)</source>
        <translation>GAM 模块（默认使用）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="362"/>
        <source>layer {0}</source>
        <translation>第 {0} 层</translation>
    </message>
</context>
<context>
    <name>ImagePanel</name>
    <message>
        <location filename="../panels.py" line="200"/>
        <source>#{0} {1} (class {2})  score {3:.3f}
click: explain this object</source>
        <translation>#{0} {1}（类别 {2}）  分数 {3:.3f}
点击：解释这个目标</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../main_window.py" line="75"/>
        <source>Open an image, folder or video (Ctrl+O), a camera, or drop a file here</source>
        <translation>打开图片、文件夹或视频（Ctrl+O）、摄像头，或把文件拖放到这里</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="76"/>
        <source>No model loaded: File &gt; Open weights... (or drop a .pt file here)</source>
        <translation>未加载模型：文件 &gt; 打开权重…（或把 .pt 文件拖放到这里）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="116"/>
        <source>gam-gui: GAM attention in YOLO</source>
        <translation>gam-gui：YOLO 中的 GAM 注意力</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="205"/>
        <source>Controls</source>
        <translation>控制面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="518"/>
        <source>device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="519"/>
        <source>model: {0}</source>
        <translation>模型：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="239"/>
        <source>&amp;Open image or video...</source>
        <translation>打开图片或视频(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="239"/>
        <source>Open an image or video</source>
        <translation>打开图片或视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="241"/>
        <source>Open &amp;folder...</source>
        <translation>打开文件夹(&amp;F)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="739"/>
        <source>Open a folder of images</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="243"/>
        <source>Open &amp;camera...</source>
        <translation>打开摄像头(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="243"/>
        <source>Open a webcam</source>
        <translation>打开网络摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="245"/>
        <source>Open &amp;stream URL...</source>
        <translation>打开视频流地址(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="245"/>
        <source>Open an rtsp/http stream</source>
        <translation>打开 rtsp/http 视频流</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="247"/>
        <source>Open &amp;weights...</source>
        <translation>打开权重(&amp;W)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="247"/>
        <source>Load a detector checkpoint (.pt)</source>
        <translation>加载检测器权重文件（.pt）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="249"/>
        <source>&amp;Save panels as PNG...</source>
        <translation>将面板保存为 PNG(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="249"/>
        <source>Save the side-by-side panels as one PNG</source>
        <translation>把并排的面板保存为一张 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="251"/>
        <source>Save individual &amp;panels...</source>
        <translation>分别保存各面板(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="251"/>
        <source>Save each visible panel as its own PNG</source>
        <translation>把每个可见面板各自保存为 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="253"/>
        <source>Save &amp;detections (JSON)...</source>
        <translation>保存检测结果（JSON）(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="253"/>
        <source>Save the current detections as JSON</source>
        <translation>把当前检测结果保存为 JSON</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="255"/>
        <source>&amp;Record panels to MP4</source>
        <translation>将面板录制为 MP4(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="255"/>
        <source>Record the panels of the playing source to an MP4</source>
        <translation>把正在播放的来源的面板录制为 MP4</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="257"/>
        <source>&amp;Export whole source...</source>
        <translation>导出整个来源(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="257"/>
        <source>Export the panels of every frame of the current file or folder</source>
        <translation>导出当前文件或文件夹每一帧的面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="259"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="259"/>
        <source>Quit gam-gui</source>
        <translation>退出 gam-gui</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="262"/>
        <source>&amp;Play / Pause</source>
        <translation>播放 / 暂停(&amp;P)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="262"/>
        <source>Play or pause</source>
        <translation>播放或暂停</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="263"/>
        <source>&amp;Step forward</source>
        <translation>下一帧(&amp;S)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="263"/>
        <source>Next frame or image</source>
        <translation>下一帧或下一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="265"/>
        <source>Step &amp;back</source>
        <translation>上一帧(&amp;B)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="265"/>
        <source>Previous frame or image</source>
        <translation>上一帧或上一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="267"/>
        <source>&amp;Next image</source>
        <translation>下一张图片(&amp;N)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="267"/>
        <source>Next image of the folder</source>
        <translation>文件夹中的下一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="269"/>
        <source>P&amp;revious image</source>
        <translation>上一张图片(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="269"/>
        <source>Previous image of the folder</source>
        <translation>文件夹中的上一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="271"/>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="271"/>
        <source>Stop: back to the first frame; release a camera</source>
        <translation>停止：回到第一帧；释放摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="273"/>
        <source>&amp;Loop video</source>
        <translation>循环播放视频(&amp;L)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="273"/>
        <source>Start a video again at its end</source>
        <translation>视频结束后从头播放</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="276"/>
        <source>Re-&amp;analyse</source>
        <translation>重新分析(&amp;A)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="276"/>
        <source>Analyse the current frame again</source>
        <translation>重新分析当前帧</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="281"/>
        <source>{0} panel</source>
        <translation>{0}面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="281"/>
        <source>Show or hide the {0} panel</source>
        <translation>显示或隐藏{0}面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="287"/>
        <source>Channel &amp;chart</source>
        <translation>通道图(&amp;C)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="287"/>
        <source>Show or hide the bar chart</source>
        <translation>显示或隐藏柱状图</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="293"/>
        <source>&amp;About gam-gui</source>
        <translation>关于 gam-gui(&amp;A)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="563"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="311"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="312"/>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="318"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="321"/>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="330"/>
        <source>&amp;Playback</source>
        <translation>播放(&amp;P)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="336"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="342"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="345"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="372"/>
        <source>end of source</source>
        <translation>来源已结束</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="383"/>
        <source>CUDA is not available; using the CPU instead of {0}</source>
        <translation>CUDA 不可用；使用 CPU 代替 {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="403"/>
        <source>opening {0} ...</source>
        <translation>正在打开 {0} …</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="496"/>
        <source>loading model {0} ...</source>
        <translation>正在加载模型 {0} …</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="521"/>
        <source>{0} GAM blocks</source>
        <translation>{0} 个 GAM 模块</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="521"/>
        <source>no GAM blocks</source>
        <translation>没有 GAM 模块</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="522"/>
        <source>loaded {0}: {1} classes, {2}</source>
        <translation>已加载 {0}：{1} 个类别，{2}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="539"/>
        <source>no model: {0}</source>
        <translation>没有模型：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="543"/>
        <source>Cannot load the weights</source>
        <translation>无法加载权重</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="549"/>
        <source>opened {0} ({1})</source>
        <translation>已打开 {0}（{1}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="554"/>
        <source>Cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="558"/>
        <source>source closed</source>
        <translation>来源已关闭</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="563"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="578"/>
        <source>recording to {0}</source>
        <translation>正在录制到 {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="877"/>
        <source>saved {0}</source>
        <translation>已保存 {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="578"/>
        <source>recording stopped</source>
        <translation>录制已停止</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="616"/>
        <source>live frame {0}  (dropped {1})</source>
        <translation>实时帧 {0}  （丢弃 {1}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="618"/>
        <source>image {0} / {1}: {2}</source>
        <translation>图片 {0} / {1}：{2}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="623"/>
        <source>frame {0} / {1}</source>
        <translation>帧 {0} / {1}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="625"/>
        <source>  (dropped {0})</source>
        <translation>  （丢弃 {0}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="640"/>
        <source>inference {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | total {3:.0f} ms</source>
        <translation>推理 {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | 总计 {3:.0f} ms</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="700"/>
        <source>CAM target: detection #{0} ({1}, score {2:.3f})</source>
        <translation>CAM 目标：检测框 #{0}（{1}，分数 {2:.3f}）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="726"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="729"/>
        <source>Clear list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="733"/>
        <source>Open image or video</source>
        <translation>打开图片或视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="733"/>
        <source>Images and videos ({0});;All files (*)</source>
        <translation>图片和视频 ({0});;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="746"/>
        <source>No camera</source>
        <translation>没有摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="746"/>
        <source>No camera was found (no /dev/video* device).</source>
        <translation>未找到摄像头（没有 /dev/video* 设备）。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="749"/>
        <source>Open camera</source>
        <translation>打开摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="749"/>
        <source>Camera:</source>
        <translation>摄像头：</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="755"/>
        <source>Open stream</source>
        <translation>打开视频流</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="755"/>
        <source>Stream URL (rtsp://, http://, ...):</source>
        <translation>视频流地址（rtsp://、http://、…）：</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="763"/>
        <source>Open weights</source>
        <translation>打开权重</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="763"/>
        <source>Checkpoints (*.pt *.pth);;All files (*)</source>
        <translation>权重文件 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="784"/>
        <source>Replace files?</source>
        <translation>替换文件？</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="784"/>
        <source>These files exist already:
{0}

Replace them?</source>
        <translation>这些文件已经存在：
{0}

要替换它们吗？</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="800"/>
        <source>nothing analysed to save yet</source>
        <translation>还没有可保存的分析结果</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="875"/>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="827"/>
        <source>Save panels as PNG</source>
        <translation>将面板保存为 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="827"/>
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="848"/>
        <source>saved {0} panel(s) to {1}</source>
        <translation>已将 {0} 个面板保存到 {1}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="854"/>
        <source>Save panels into folder</source>
        <translation>把面板保存到文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="883"/>
        <source>Save detections</source>
        <translation>保存检测结果</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="883"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="902"/>
        <source>open a video or camera first</source>
        <translation>请先打开视频或摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="905"/>
        <source>Record panels to MP4</source>
        <translation>将面板录制为 MP4</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="905"/>
        <source>MP4 video (*.mp4)</source>
        <translation>MP4 视频 (*.mp4)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="914"/>
        <source>open a file or folder and a model first</source>
        <translation>请先打开文件或文件夹以及模型</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="916"/>
        <source>Export panels into folder</source>
        <translation>把面板导出到文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="923"/>
        <source>Export video</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="923"/>
        <source>Write one MP4 of the panels (Yes) or a PNG per frame (No)?</source>
        <translation>把面板写成一个 MP4（是），还是每帧一张 PNG（否）？</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="935"/>
        <source>an export is running already</source>
        <translation>已有导出正在进行</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="937"/>
        <source>Exporting...</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="937"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="954"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="968"/>
        <source>gam-gui {0}</source>
        <translation>gam-gui {0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="968"/>
        <source>gam-gui shows what the GAM attention in a YOLO-GAM detector does: detections, a Grad-CAM explanation and the GAM channel and spatial attention, side by side.</source>
        <translation>gam-gui 展示 YOLO-GAM 检测器中的 GAM 注意力起了什么作用：检测结果、Grad-CAM 解释，以及 GAM 通道注意力和空间注意力，并排显示。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="968"/>
        <source>Click a box to explain that object. Space plays or pauses, Right/&apos;.&apos; steps.</source>
        <translation>点击检测框即可解释该目标。空格键播放或暂停，右方向键或“.”逐帧前进。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="968"/>
        <source>Device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="981"/>
        <source>About gam-gui</source>
        <translation>关于 gam-gui</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="990"/>
        <source>the window is already in {0}</source>
        <translation>窗口已经是{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="992"/>
        <source>The window will be in {0} the next time gam-gui starts.</source>
        <translation>下次启动 gam-gui 时，窗口将使用{0}。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="994"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="1099"/>
        <source>no sample found: {0}</source>
        <translation>未找到示例：{0}</translation>
    </message>
</context>
<context>
    <name>render</name>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>Detections</source>
        <translation>检测结果</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>CAM</source>
        <translation>CAM</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>GAM channel</source>
        <translation>GAM 通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>GAM spatial</source>
        <translation>GAM 空间</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>Frame</source>
        <translation>帧</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>{n} object  conf {conf}  iou {iou}</source>
        <translation>{n} 个目标  置信度 {conf}  IoU {iou}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>{n} objects  conf {conf}  iou {iou}</source>
        <translation>{n} 个目标  置信度 {conf}  IoU {iou}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>L{layers}  target: {target}</source>
        <translation>L{layers}  目标：{target}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>L{layers}  target: {target}  ({note})</source>
        <translation>L{layers}  目标：{target}  （{note}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>layer {layer}  {reduction} over {channels} ch  ({variant})</source>
        <translation>第 {layer} 层  {channels} 个通道的{reduction}  （{variant}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>layer {layer}  {reduction}</source>
        <translation>第 {layer} 层  {reduction}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>this model has no GAM layers</source>
        <translation>该模型没有 GAM 层</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>no model loaded: File &gt; Open weights</source>
        <translation>未加载模型：文件 &gt; 打开权重</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>all detections</source>
        <translation>全部检测框</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>class scores</source>
        <translation>类别分数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>box outputs</source>
        <translation>边框输出</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>detection #{0}</source>
        <translation>检测框 #{0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>class {0}</source>
        <translation>类别 {0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="28"/>
        <source>max</source>
        <translation>最大值</translation>
    </message>
</context>
</TS>
