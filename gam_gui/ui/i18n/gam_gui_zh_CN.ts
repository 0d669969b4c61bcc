<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AblationPanel</name>
    <message>
        <location filename="../controls.py" line="64"/>
        <source>on</source>
        <translation>开启</translation>
    </message>
    <message>
        <location filename="../controls.py" line="64"/>
        <source>as trained</source>
        <translation>与训练时相同</translation>
    </message>
    <message>
        <location filename="../controls.py" line="65"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../controls.py" line="65"/>
        <source>the block returns its input</source>
        <translation>该模块直接返回输入</translation>
    </message>
    <message>
        <location filename="../controls.py" line="67"/>
        <source>channel only</source>
        <translation>仅通道门</translation>
    </message>
    <message>
        <location filename="../controls.py" line="67"/>
        <source>the channel gate only (the spatial gate skipped)</source>
        <translation>只用通道门（跳过空间门）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="69"/>
        <source>spatial only</source>
        <translation>仅空间门</translation>
    </message>
    <message>
        <location filename="../controls.py" line="69"/>
        <source>the spatial gate only (the channel gate skipped)</source>
        <translation>只用空间门（跳过通道门）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="71"/>
        <source>drop top {0} channels</source>
        <translation>去掉前 {0} 个通道</translation>
    </message>
    <message>
        <location filename="../controls.py" line="71"/>
        <source>the block as trained, then the {0} channels with the largest channel attention set to zero</source>
        <translation>模块照常计算，然后把通道注意力最大的 {0} 个通道置零</translation>
    </message>
    <message>
        <location filename="../controls.py" line="74"/>
        <source>mean gate</source>
        <translation>均值门</translation>
    </message>
    <message>
        <location filename="../controls.py" line="74"/>
        <source>each gate replaced by its mean over the frame: the scale stays, where it attends goes</source>
        <translation>每个门替换为它在整帧上的均值：保留缩放幅度，去掉关注的位置</translation>
    </message>
    <message>
        <location filename="../controls.py" line="606"/>
        <source>Ablation</source>
        <translation>消融</translation>
    </message>
    <message>
        <location filename="../controls.py" line="612"/>
        <source>Compare with ablation</source>
        <translation>与消融结果对比</translation>
    </message>
    <message>
        <location filename="../controls.py" line="613"/>
        <source>Detections panel: kept boxes with their score change, lost boxes dashed red, new boxes green; the status bar sums it up</source>
        <translation>检测面板：保留的框标出分数变化，丢失的框为红色虚线，新增的框为绿色；状态栏给出汇总</translation>
    </message>
    <message>
        <location filename="../controls.py" line="629"/>
        <source>All blocks on</source>
        <translation>全部模块开启</translation>
    </message>
    <message>
        <location filename="../controls.py" line="630"/>
        <source>Set every block back to on (as trained)</source>
        <translation>把每个模块恢复为开启（与训练时相同）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="644"/>
        <source>no model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="736"/>
        <source>this model has no GAM blocks to ablate</source>
        <translation>该模型没有可消融的 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="738"/>
        <source>while two models are compared, the comparison is shown instead of the ablation</source>
        <translation>对比两个模型时，显示模型对比而不显示消融</translation>
    </message>
    <message>
        <location filename="../controls.py" line="79"/>
        <source>trained model</source>
        <translation>训练后的模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="79"/>
        <source>ablated model</source>
        <translation>消融后的模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="624"/>
        <source>The CAM and GAM panels show the maps of the model as trained, or of the ablated model; each panel&apos;s title says which</source>
        <translation>CAM 和 GAM 面板显示训练后的模型或消融后的模型的热力图；每个面板的标题会注明是哪一个</translation>
    </message>
    <message>
        <location filename="../controls.py" line="627"/>
        <source>Maps of:</source>
        <translation>热力图来自：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="642"/>
        <source>This build shows the maps of the model as trained only</source>
        <translation>此版本只显示训练后模型的热力图</translation>
    </message>
    <message>
        <location filename="../controls.py" line="607"/>
        <source>Switch attention blocks off, keep one of their gates or flatten them, and see which detections the model keeps, loses or gains on this frame</source>
        <translation>关闭注意力模块、只保留其中一个门或将其拉平，查看模型在本帧上保留、丢失或新增了哪些检测</translation>
    </message>
    <message>
        <location filename="../controls.py" line="685"/>
        <source>What {0} block {1} does while the ablation view is on</source>
        <translation>消融视图开启时 {0} 模块 {1} 的行为</translation>
    </message>
    <message>
        <location filename="../controls.py" line="687"/>
        <source>Layer {0} ({1}):</source>
        <translation>第 {0} 层（{1}）：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="716"/>
        <source>{0} only</source>
        <translation>仅 {0}</translation>
    </message>
    <message>
        <location filename="../controls.py" line="716"/>
        <source>the {0} gate only (the block&apos;s other gates skipped)</source>
        <translation>只保留 {0} 门（跳过该模块的其他门）</translation>
    </message>
</context>
<context>
    <name>AnalysisWorker</name>
    <message>
        <location filename="../worker.py" line="242"/>
        <source>{0}: has no readable frame</source>
        <translation>{0}：没有可读取的帧</translation>
    </message>
    <message>
        <location filename="../worker.py" line="499"/>
        <source>analysis failed: {0}</source>
        <translation>分析失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="512"/>
        <source>rendering failed: {0}</source>
        <translation>绘制失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="597"/>
        <source>recording failed: {0}</source>
        <translation>录制失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="502"/>
        <source>ablation failed: {0}</source>
        <translation>消融失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="545"/>
        <source>nothing to measure: open a source and a model first</source>
        <translation>没有可测量的内容：请先打开一个来源和一个模型</translation>
    </message>
    <message>
        <location filename="../worker.py" line="560"/>
        <source>measuring is not available while comparing two models</source>
        <translation>比较两个模型时无法测量</translation>
    </message>
    <message>
        <location filename="../worker.py" line="562"/>
        <source>choose a CAM method to measure</source>
        <translation>请选择一种 CAM 方法再测量</translation>
    </message>
    <message>
        <location filename="../worker.py" line="564"/>
        <source>no detection to measure on this frame</source>
        <translation>此帧上没有可测量的检测</translation>
    </message>
    <message>
        <location filename="../worker.py" line="569"/>
        <source>measuring failed: {0}</source>
        <translation>测量失败：{0}</translation>
    </message>
    <message>
        <location filename="../worker.py" line="556"/>
        <source>measurement cancelled</source>
        <translation>测量已取消</translation>
    </message>
</context>
<context>
    <name>ChannelBarChart</name>
    <message>
        <location filename="../panels.py" line="663"/>
        <source>Channel attention</source>
        <translation>通道注意力</translation>
    </message>
    <message>
        <location filename="../frame_result.py" line="119"/>
        <source>Channel attention: {0}</source>
        <translation>通道注意力：{0}</translation>
    </message>
    <message>
        <location filename="../frame_result.py" line="123"/>
        <source>Channel attention, GAM layer {0} ({1} channels)</source>
        <translation>通道注意力，GAM 层 {0}（{1} 个通道）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="689"/>
        <source>y: mean channel gate over the pixels (no sigmoid: signed; &lt; 0 flips the feature)</source>
        <translation>y：各像素上通道门控的平均值（无 sigmoid：有正负；&lt; 0 会翻转特征）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="690"/>
        <source>y: mean channel gate over the pixels (sigmoid: 0 to 1)</source>
        <translation>y：各像素上通道门控的平均值（sigmoid：0 到 1）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="693"/>
        <source>orange: the 3 largest weights; blue: the others; white: the channel shown in the GAM channel panel. x: channel index. Click a bar to see that channel before and after the block, click it again to go back.</source>
        <translation>橙色：最大的 3 个权重；蓝色：其余；白色：GAM 通道面板中显示的通道。x：通道索引。单击柱条可查看该通道在模块前后的样子，再次单击返回。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="765"/>
        <source>channel index</source>
        <translation>通道索引</translation>
    </message>
    <message>
        <location filename="../panels.py" line="767"/>
        <source>orange: 3 largest; white: shown channel (click a bar)</source>
        <translation>橙色：最大的 3 个；白色：显示的通道（单击柱条）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="780"/>
        <source>channel {0}: {1:.4f}
click: show this channel before and after the block</source>
        <translation>通道 {0}：{1:.4f}
单击：显示此通道在模块前后的特征图</translation>
    </message>
    <message>
        <location filename="../frame_result.py" line="127"/>
        <source>Channel attention: {0} at layer {1} has no channel gate (its gates: {2}); the attention panels show them</source>
        <translation>通道注意力：第 {1} 层的 {0} 没有通道门（它的门：{2}）；注意力面板显示这些门</translation>
    </message>
    <message>
        <location filename="../frame_result.py" line="130"/>
        <source>Channel attention, {0} {1} gate at layer {2} ({3} channels)</source>
        <translation>通道注意力，第 {2} 层 {0} 的 {1} 门（{3} 个通道）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="730"/>
        <source>no channel gate to show: the title says why</source>
        <translation>没有可显示的通道门：标题说明了原因</translation>
    </message>
</context>
<context>
    <name>CompareController</name>
    <message>
        <location filename="../compare_controller.py" line="30"/>
        <source>loading model B {0} ...</source>
        <translation>正在加载模型 B {0} …</translation>
    </message>
    <message>
        <location filename="../compare_controller.py" line="39"/>
        <source>comparing A: {0} with B: {1}</source>
        <translation>正在对比 A：{0} 与 B：{1}</translation>
    </message>
    <message>
        <location filename="../compare_controller.py" line="45"/>
        <source>Cannot load the model to compare with</source>
        <translation>无法加载用于对比的模型</translation>
    </message>
    <message>
        <location filename="../compare_controller.py" line="52"/>
        <source>comparison stopped</source>
        <translation>已停止对比</translation>
    </message>
</context>
<context>
    <name>ControlPanel</name>
    <message>
        <location filename="../controls.py" line="48"/>
        <source>All detections</source>
        <translation>全部检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="48"/>
        <source>Class scores</source>
        <translation>类别分数</translation>
    </message>
    <message>
        <location filename="../controls.py" line="48"/>
        <source>Box outputs</source>
        <translation>边框输出</translation>
    </message>
    <message>
        <location filename="../controls.py" line="48"/>
        <source>Clicked object</source>
        <translation>点击的目标</translation>
    </message>
    <message>
        <location filename="../controls.py" line="48"/>
        <source>Class id</source>
        <translation>类别编号</translation>
    </message>
    <message>
        <location filename="../controls.py" line="53"/>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="53"/>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="192"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="194"/>
        <source>Open weights...</source>
        <translation>打开权重…</translation>
    </message>
    <message>
        <location filename="../controls.py" line="195"/>
        <source>Load a gam-gui, YOLOv5 or YOLOv7 checkpoint (.pt); you can also drop it here</source>
        <translation>加载 gam-gui、YOLOv5 或 YOLOv7 权重文件（.pt）；也可以直接拖放到这里</translation>
    </message>
    <message>
        <location filename="../controls.py" line="463"/>
        <source>no model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../controls.py" line="202"/>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="205"/>
        <source>Classes:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="208"/>
        <source>Attention:</source>
        <translation>注意力：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="213"/>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="217"/>
        <source>Detection</source>
        <translation>检测</translation>
    </message>
    <message>
        <location filename="../controls.py" line="221"/>
        <source>Confidence threshold</source>
        <translation>置信度阈值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="222"/>
        <source>Confidence:</source>
        <translation>置信度：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="225"/>
        <source>NMS IoU threshold</source>
        <translation>NMS 的 IoU 阈值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="226"/>
        <source>IoU:</source>
        <translation>IoU：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="231"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location filename="../controls.py" line="232"/>
        <source>Inference size (the long side of the network input)</source>
        <translation>推理尺寸（网络输入的长边）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="234"/>
        <source>Image size:</source>
        <translation>图像尺寸：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="238"/>
        <source>Explanation (CAM)</source>
        <translation>解释（CAM）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="242"/>
        <source>none (off)</source>
        <translation>无（关闭）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="244"/>
        <source>Method:</source>
        <translation>方法：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="247"/>
        <source>Layers whose CAMs are averaged; none selected = the GAM blocks (or the layers feeding the head). Ctrl/Shift-click to choose several.</source>
        <translation>对这些层的 CAM 取平均；不选 = 使用 GAM 模块（或检测头的输入层）。按住 Ctrl/Shift 点击可多选。</translation>
    </message>
    <message>
        <location filename="../controls.py" line="253"/>
        <source>Layers (index, type, shape):</source>
        <translation>层（序号、类型、形状）：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="255"/>
        <source>Default layers</source>
        <translation>默认层</translation>
    </message>
    <message>
        <location filename="../controls.py" line="256"/>
        <source>Clear the selection: use the GAM blocks</source>
        <translation>清除选择：使用 GAM 模块</translation>
    </message>
    <message>
        <location filename="../controls.py" line="262"/>
        <source>Target:</source>
        <translation>目标：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="266"/>
        <source>The detection the CAM explains (click a box to choose it)</source>
        <translation>CAM 要解释的检测框（点击检测框即可选中）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="267"/>
        <source>Object:</source>
        <translation>目标编号：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="269"/>
        <source>Explain every detection of this class</source>
        <translation>解释该类别的全部检测框</translation>
    </message>
    <message>
        <location filename="../controls.py" line="270"/>
        <source>Class:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="271"/>
        <source>Renormalise inside boxes</source>
        <translation>在检测框内重新归一化</translation>
    </message>
    <message>
        <location filename="../controls.py" line="275"/>
        <source>On a playing video or camera, compute the CAM only every N frames (detections and GAM maps still every frame)</source>
        <translation>播放视频或摄像头时，每 N 帧才计算一次 CAM（检测和 GAM 图仍然每帧计算）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="277"/>
        <source>CAM every N frames:</source>
        <translation>CAM 每 N 帧：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="281"/>
        <source>Display</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../controls.py" line="443"/>
        <source>first</source>
        <translation>第一个</translation>
    </message>
    <message>
        <location filename="../controls.py" line="297"/>
        <source>How the GAM maps are reduced over channels</source>
        <translation>GAM 图在通道维度上的合并方式</translation>
    </message>
    <message>
        <location filename="../controls.py" line="298"/>
        <source>Channel reduction:</source>
        <translation>通道合并：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="315"/>
        <source>Colormap:</source>
        <translation>色图：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="318"/>
        <source>Overlay alpha:</source>
        <translation>叠加透明度：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="404"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../controls.py" line="408"/>
        <source>{0} GAM block(s) at layer(s) {1}</source>
        <translation>{0} 个 GAM 模块，位于第 {1} 层</translation>
    </message>
    <message>
        <location filename="../controls.py" line="418"/>
        <source>no GAM blocks found: the GAM panels stay empty; the CAM uses the layers feeding the head ({0})</source>
        <translation>未找到 GAM 模块：GAM 面板保持空白；CAM 使用检测头的输入层（{0}）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="432"/>
        <source>a GAM block (used by default)</source>
        <translation>GAM 模块（默认使用）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="55"/>
        <source>gates (channel | spatial)</source>
        <translation>门控（通道 | 空间）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="55"/>
        <source>channel gate | block gain</source>
        <translation>通道门控 | 模块增益</translation>
    </message>
    <message>
        <location filename="../controls.py" line="55"/>
        <source>channel-branch gain | spatial gate</source>
        <translation>通道分支增益 | 空间门控</translation>
    </message>
    <message>
        <location filename="../controls.py" line="55"/>
        <source>channel gate | spatial-branch gain</source>
        <translation>通道门控 | 空间分支增益</translation>
    </message>
    <message>
        <location filename="../controls.py" line="60"/>
        <source>per frame</source>
        <translation>逐帧</translation>
    </message>
    <message>
        <location filename="../controls.py" line="60"/>
        <source>fixed over the video</source>
        <translation>整个视频固定</translation>
    </message>
    <message>
        <location filename="../controls.py" line="242"/>
        <source>Auto (Grad-CAM / HiResCAM per object)</source>
        <translation>自动（Grad-CAM / 单个目标用 HiResCAM）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="309"/>
        <source>Colour range of the heatmaps: each frame&apos;s own, or held over the frames of a video so that a colour means the same value on every frame</source>
        <translation>热力图的颜色范围：每帧各自的范围，或在视频各帧间保持不变，使同一颜色在每一帧都代表同一数值</translation>
    </message>
    <message>
        <location filename="../controls.py" line="311"/>
        <source>Colour scale:</source>
        <translation>颜色标尺：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="285"/>
        <source>Which attention block (GAM, CBAM, SE, CoordAtt, ...) the two attention panels and the channel chart show</source>
        <translation>两个注意力面板和通道图显示哪个注意力模块（GAM、CBAM、SE、CoordAtt 等）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="287"/>
        <source>Attention block:</source>
        <translation>注意力模块：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="290"/>
        <source>Which gate of the block the first attention panel shows; the second shows the next gate (or, for a one-gate block, the block&apos;s gain)</source>
        <translation>第一个注意力面板显示该模块的哪个门；第二个面板显示下一个门（只有一个门的模块则显示模块增益）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="292"/>
        <source>Gate:</source>
        <translation>门：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="302"/>
        <source>What the two attention panels show: the gates, or beside a gate the gain, log2 of the feature energy after / before the block or one branch (red: made stronger, blue: weaker; the branch gains exist for GAM only)</source>
        <translation>两个注意力面板显示的内容：各个门，或在一个门旁边显示增益，即模块或某一分支之后/之前特征能量之比的 log2（红：增强，蓝：减弱；分支增益仅 GAM 有）</translation>
    </message>
    <message>
        <location filename="../controls.py" line="305"/>
        <source>Attention panels:</source>
        <translation>注意力面板：</translation>
    </message>
    <message>
        <location filename="../controls.py" line="411"/>
        <source>other attention blocks: {0}</source>
        <translation>其他注意力模块：{0}</translation>
    </message>
    <message>
        <location filename="../controls.py" line="435"/>
        <source>an attention block ({0}): suggested for CAM</source>
        <translation>注意力模块（{0}）：建议用于 CAM</translation>
    </message>
    <message>
        <location filename="../controls.py" line="437"/>
        <source>feeds the detection head: suggested for CAM</source>
        <translation>输入检测头：建议用于 CAM</translation>
    </message>
    <message>
        <location filename="../controls.py" line="446"/>
        <source>the {0} block at layer {1}; the loader inferred its forward: {2}</source>
        <translation>第 {1} 层的 {0} 模块；加载器推断的前向实现：{2}</translation>
    </message>
    <message>
        <location filename="../controls.py" line="570"/>
        <source>layer {0}: {1}</source>
        <translation>第 {0} 层：{1}</translation>
    </message>
</context>
<context>
    <name>CurvePlot</name>
    <message>
        <location filename="../measure.py" line="101"/>
        <source>deletion</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../measure.py" line="102"/>
        <source>insertion</source>
        <translation>插入</translation>
    </message>
    <message>
        <location filename="../measure.py" line="132"/>
        <source>fraction of pixels removed / inserted</source>
        <translation>移除 / 插入的像素比例</translation>
    </message>
    <message>
        <location filename="../measure.py" line="140"/>
        <source>no measurement</source>
        <translation>尚无测量</translation>
    </message>
    <message>
        <location filename="../measure.py" line="137"/>
        <source>detection score</source>
        <translation>检测得分</translation>
    </message>
    <message>
        <location filename="../measure.py" line="158"/>
        <source>faint: random - - -, box ...</source>
        <translation>浅色：随机 - - -，框 ...</translation>
    </message>
</context>
<context>
    <name>DatasetBrowser</name>
    <message>
        <location filename="../dataset_controller.py" line="103"/>
        <source>In the detections panel: ground truth dashed (orange: missed, FN), TP in the class colour, FP in red. Click an orange box to see the CAM of its class there.</source>
        <translation>检测结果面板中：真值框为虚线（橙色：漏检，FN），TP 为类别颜色，FP 为红色。点击橙色框可查看该处其类别的 CAM。</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="100"/>
        <source>No dataset open: File &gt; Open dataset...</source>
        <translation>未打开数据集：文件 &gt; 打开数据集…</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="109"/>
        <source>Class:</source>
        <translation>类别：</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="192"/>
        <source>all classes</source>
        <translation>全部类别</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="115"/>
        <source>has FN</source>
        <translation>有漏检 (FN)</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="116"/>
        <source>Only images with an object the model missed</source>
        <translation>只显示有漏检目标的图像</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="117"/>
        <source>has FP</source>
        <translation>有误检 (FP)</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="118"/>
        <source>Only images with a detection that matches no object</source>
        <translation>只显示有不匹配任何目标的检测的图像</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="119"/>
        <source>Worst first</source>
        <translation>最差的在前</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="120"/>
        <source>Sort by FN + FP, most first</source>
        <translation>按 FN + FP 从多到少排序</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="94"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="143"/>
        <source>Stop scoring the images (the counts so far stay)</source>
        <translation>停止评分（已得到的计数保留）</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="148"/>
        <source>Dataset summary...</source>
        <translation>数据集摘要…</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="160"/>
        <source>Open dataset</source>
        <translation>打开数据集</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="160"/>
        <source>Datasets (*.yaml *.yml *.json);;All files (*)</source>
        <translation>数据集 (*.yaml *.yml *.json);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="170"/>
        <source>Open dataset folder</source>
        <translation>打开数据集文件夹</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="179"/>
        <source>opening {0} ...</source>
        <translation>正在打开 {0} …</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="180"/>
        <source>opening dataset {0} ...</source>
        <translation>正在打开数据集 {0} …</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="196"/>
        <source>{0}: {1} images ({2}), {3} classes</source>
        <translation>{0}：{1} 张图像（{2}），{3} 个类别</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="201"/>
        <source>dataset open: {0} images; scoring them in the background</source>
        <translation>数据集已打开：{0} 张图像；正在后台评分</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="207"/>
        <source>Cannot open the dataset: {0}</source>
        <translation>无法打开数据集：{0}</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="208"/>
        <source>Cannot open the dataset</source>
        <translation>无法打开数据集</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="243"/>
        <source>scored {0} / {1}</source>
        <translation>已评分 {0} / {1}</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="254"/>
        <source>scoring cancelled after {0} images</source>
        <translation>评分已在 {0} 张图像后取消</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="254"/>
        <source>all {0} images scored</source>
        <translation>全部 {0} 张图像已评分</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="330"/>
        <source>{0}: {1} TP, {2} FP, {3} FN (IoU 0.5, conf {4})</source>
        <translation>{0}：{1} TP，{2} FP，{3} FN（IoU 0.5，置信度 {4}）</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="352"/>
        <source>FN {0}: CAM of {0} at this object; no detection overlaps</source>
        <translation>漏检 {0}：该目标处 {0} 类的 CAM；没有检测与之重叠</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="354"/>
        <source>FN {0}: CAM of {0} at this object; best overlapping detection: {1} {2}, IoU {3}</source>
        <translation>漏检 {0}：该目标处 {0} 类的 CAM；重叠最多的检测：{1} {2}，IoU {3}</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="371"/>
        <source>Open a dataset first: File &gt; Open dataset...</source>
        <translation>请先打开数据集：文件 &gt; 打开数据集…</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="393"/>
        <source>Cannot read {0}: {1}</source>
        <translation>无法读取 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="401"/>
        <source>Folder of an eval run (with metrics.json)</source>
        <translation>评估运行的文件夹（含 metrics.json）</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="409"/>
        <source>No metrics.json in {0}</source>
        <translation>{0} 中没有 metrics.json</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="417"/>
        <source>Where to save the eval</source>
        <translation>评估结果保存位置</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="437"/>
        <source>eval saved: {0}</source>
        <translation>评估已保存：{0}</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="443"/>
        <source>The eval failed</source>
        <translation>评估失败</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="449"/>
        <source>eval cancelled</source>
        <translation>评估已取消</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="469"/>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="476"/>
        <source>Open &amp;dataset...</source>
        <translation>打开数据集(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="477"/>
        <source>Open a data.yaml or a COCO json: its images with TP/FP/FN, ground truth drawn</source>
        <translation>打开 data.yaml 或 COCO json：列出图像及其 TP/FP/FN，并绘制真值框</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="481"/>
        <source>Open dataset f&amp;older...</source>
        <translation>打开数据集文件夹(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="482"/>
        <source>Open a dataset folder (with a data.yaml, or images and labels/)</source>
        <translation>打开数据集文件夹（含 data.yaml，或 images 与 labels/）</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="486"/>
        <source>Dataset &amp;summary</source>
        <translation>数据集摘要(&amp;S)</translation>
    </message>
    <message>
        <location filename="../dataset_controller.py" line="487"/>
        <source>Per-class AP and ablation table of the open dataset</source>
        <translation>当前数据集的逐类 AP 与消融表</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="145"/>
        <source>Image</source>
        <translation>图像</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="145"/>
        <source>Errors</source>
        <translation>错误数</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="150"/>
        <source>The image file</source>
        <translation>图像文件</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="151"/>
        <source>True positives: detections that match an object (IoU &gt;= 0.5)</source>
        <translation>真阳性：与某个目标匹配的检测（IoU &gt;= 0.5）</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="152"/>
        <source>False positives: detections that match no object</source>
        <translation>假阳性（误检）：不匹配任何目标的检测</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="153"/>
        <source>False negatives: objects no detection found</source>
        <translation>假阴性（漏检）：没有被任何检测找到的目标</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="154"/>
        <source>FN + FP: sort on this column for the worst images first</source>
        <translation>FN + FP：按此列排序可让最差的图像排在前面</translation>
    </message>
    <message>
        <location filename="../dataset_model.py" line="173"/>
        <source>skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="56"/>
        <source>Dataset summary</source>
        <translation>数据集摘要</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="62"/>
        <source>Per class (COCO protocol)</source>
        <translation>逐类指标（COCO 协议）</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="63"/>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="65"/>
        <source>Ablation: each GAM block switched off (change and its 95% interval)</source>
        <translation>消融：逐个关闭 GAM 模块（变化量及其 95% 区间）</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="68"/>
        <source>Ablation</source>
        <translation>消融</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="68"/>
        <source>change [95% CI]</source>
        <translation>变化 [95% CI]</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="82"/>
        <source>Open eval folder...</source>
        <translation>打开评估文件夹…</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="83"/>
        <source>Show the metrics.json of an eval run you saved elsewhere</source>
        <translation>显示保存在别处的评估运行的 metrics.json</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="86"/>
        <source>Run eval</source>
        <translation>运行评估</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="113"/>
        <source>No saved eval of this dataset was found. Run eval scores it here and saves it to {0}</source>
        <translation>未找到该数据集已保存的评估。“运行评估”会在此评分并保存到 {0}</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="122"/>
        <source>From {0}: {1} images, mAP50 {2}, mAP50-95 {3}</source>
        <translation>来自 {0}：{1} 张图像，mAP50 {2}，mAP50-95 {3}</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="152"/>
        <source>none in this run (eval without --ablate-each)</source>
        <translation>本次运行没有消融（评估时未使用 --ablate-each）</translation>
    </message>
    <message>
        <location filename="../dataset_summary.py" line="167"/>
        <source>eval: {0} / {1} images</source>
        <translation>评估：{0} / {1} 张图像</translation>
    </message>
</context>
<context>
    <name>HelpController</name>
    <message>
        <location filename="../help_controller.py" line="37"/>
        <source>gam-gui {0}</source>
        <translation>gam-gui {0}</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="37"/>
        <source>gam-gui shows what the GAM attention in a YOLO-GAM detector does: detections, a Grad-CAM explanation and the GAM channel and spatial attention, side by side.</source>
        <translation>gam-gui 展示 YOLO-GAM 检测器中的 GAM 注意力起了什么作用：检测结果、Grad-CAM 解释，以及 GAM 通道注意力和空间注意力，并排显示。</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="37"/>
        <source>Click a box to explain that object. Space plays or pauses, Right/&apos;.&apos; steps.</source>
        <translation>点击检测框即可解释该目标。空格键播放或暂停，右方向键或“.”逐帧前进。</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="37"/>
        <source>Device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="51"/>
        <source>About gam-gui</source>
        <translation>关于 gam-gui</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="61"/>
        <source>the window is already in {0}</source>
        <translation>窗口已经是{0}</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="63"/>
        <source>The window will be in {0} the next time gam-gui starts.</source>
        <translation>下次启动 gam-gui 时，窗口将使用{0}。</translation>
    </message>
    <message>
        <location filename="../help_controller.py" line="65"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
</context>
<context>
    <name>HelpDialog</name>
    <message>
        <location filename="../help.py" line="45"/>
        <source>How to read the panels</source>
        <translation>如何解读各面板</translation>
    </message>
    <message>
        <location filename="../help.py" line="53"/>
        <source>Panels</source>
        <translation>面板</translation>
    </message>
    <message>
        <location filename="../help.py" line="54"/>
        <source>&lt;b&gt;Detections&lt;/b&gt;: boxes with class and score. Click a box to explain that object; the thick box is the CAM&apos;s target.</source>
        <translation>&lt;b&gt;检测&lt;/b&gt;：带类别和得分的框。单击一个框即可解释该目标；粗框是 CAM 的目标。</translation>
    </message>
    <message>
        <location filename="../help.py" line="56"/>
        <source>&lt;b&gt;CAM&lt;/b&gt;: where the chosen method finds evidence for the target (the colour map of the Colormap control: its top colour is the most evidence on this frame, not an absolute level).</source>
        <translation>&lt;b&gt;CAM&lt;/b&gt;：所选方法为目标找到证据的位置（使用“色图”控件的色图：其最高端颜色表示本帧中证据最多之处，而非绝对水平）。</translation>
    </message>
    <message>
        <location filename="../help.py" line="59"/>
        <source>&lt;b&gt;GAM channel&lt;/b&gt;: the channel gate c(x) of one GAM block, reduced over channels per pixel (Channel reduction: mean or max). &lt;b&gt;GAM spatial&lt;/b&gt;: the spatial gate s(x*c), in [0, 1]. A gate is what the block multiplies by, not what it did: choose a gain under &lt;i&gt;GAM panels&lt;/i&gt; for that.</source>
        <translation>&lt;b&gt;GAM 通道&lt;/b&gt;：一个 GAM 模块的通道门控 c(x)，按像素在通道上归约（通道归约：平均或最大）。&lt;b&gt;GAM 空间&lt;/b&gt;：空间门控 s(x*c)，取值 [0, 1]。门控是模块所乘的系数，而不是模块实际做了什么：要看后者，请在 &lt;i&gt;GAM 面板&lt;/i&gt; 中选择一种增益。</translation>
    </message>
    <message>
        <location filename="../help.py" line="63"/>
        <source>&lt;b&gt;Gain&lt;/b&gt; (GAM panels: gain, channel-branch gain, spatial-branch gain): log2 of the feature energy after / before the block, per pixel (norm over channels). Blue-white-red, white = 0 = unchanged, red = made stronger, blue = weaker; +1 is twice the energy, -1 half. Block gain = channel-branch gain + spatial-branch gain.</source>
        <translation>&lt;b&gt;增益&lt;/b&gt;（GAM 面板：增益、通道分支增益、空间分支增益）：每个像素上模块之后与之前特征能量（通道上的范数）之比的 log2。蓝-白-红，白 = 0 = 不变，红 = 增强，蓝 = 减弱；+1 为能量的两倍，-1 为一半。模块增益 = 通道分支增益 + 空间分支增益。</translation>
    </message>
    <message>
        <location filename="../help.py" line="68"/>
        <source>&lt;b&gt;Channel chart&lt;/b&gt;: the mean channel gate of each channel over the pixels. Orange: the three largest, white: the channel drilled into. Click a bar to see that channel&apos;s feature map before and after the block in the GAM channel panel; click it again to go back.</source>
        <translation>&lt;b&gt;通道图&lt;/b&gt;：每个通道在各像素上的平均通道门控。橙色：最大的三个，白色：正在查看的通道。单击柱条可在 GAM 通道面板中查看该通道在模块前后的特征图；再次单击返回。</translation>
    </message>
    <message>
        <location filename="../help.py" line="81"/>
        <source>Colours</source>
        <translation>颜色</translation>
    </message>
    <message>
        <location filename="../help.py" line="82"/>
        <source>Quantities that can be negative (the seed variant&apos;s channel gate, gains, feature maps) use blue-white-red with 0 always white, so a sign never changes colour between frames or between mean and max. Quantities in [0, 1] use the chosen colour map. &lt;i&gt;Colour scale: per frame&lt;/i&gt; stretches each frame&apos;s range; &lt;i&gt;fixed over the video&lt;/i&gt; holds the widest range seen since the source was opened, so a colour means the same value on every frame.</source>
        <translation>可能为负的量（seed 变体的通道门控、增益、特征图）使用蓝-白-红，0 始终为白色，因此正负号的颜色在帧之间、在平均与最大之间都不会改变。[0, 1] 内的量使用所选色图。&lt;i&gt;颜色标尺：逐帧&lt;/i&gt; 拉伸每帧自己的范围；&lt;i&gt;整个视频固定&lt;/i&gt; 保持自打开来源以来见过的最宽范围，使同一颜色在每一帧都代表同一数值。</translation>
    </message>
    <message>
        <location filename="../help.py" line="88"/>
        <source>GAM variants</source>
        <translation>GAM 变体</translation>
    </message>
    <message>
        <location filename="../help.py" line="89"/>
        <source>&lt;b&gt;seed&lt;/b&gt; (classes GAM, GAMAttention; the shipped model): the channel branch is an MLP without sigmoid, so its gate is unbounded and signed; a negative gate flips a feature&apos;s sign. &lt;b&gt;paper&lt;/b&gt; (GAM_Attention): sigmoid on both branches, both gates in [0, 1], so the block can only keep or weaken features. The variant is in the GAM channel panel&apos;s caption.</source>
        <translation>&lt;b&gt;seed&lt;/b&gt;（类 GAM、GAMAttention；随附的模型）：通道分支是没有 sigmoid 的 MLP，因此其门控无界且有正负；负门控会翻转特征的符号。&lt;b&gt;paper&lt;/b&gt;（GAM_Attention）：两个分支都有 sigmoid，两个门控都在 [0, 1] 内，因此模块只能保留或减弱特征。变体显示在 GAM 通道面板的标题中。</translation>
    </message>
    <message>
        <location filename="../help.py" line="94"/>
        <source>Which CAM method</source>
        <translation>使用哪种 CAM 方法</translation>
    </message>
    <message>
        <location filename="../help.py" line="95"/>
        <source>&lt;b&gt;auto&lt;/b&gt; (default): Grad-CAM when the target is all detections or a class, HiResCAM when it is one object. &lt;b&gt;Grad-CAM&lt;/b&gt; is class-level: it averages each channel&apos;s gradient over the map, so a map for one object lights every similar object. &lt;b&gt;HiResCAM&lt;/b&gt; and &lt;b&gt;LayerCAM&lt;/b&gt; keep the gradient&apos;s position and point at the object itself: use them for a clicked box. &lt;b&gt;EigenCAM&lt;/b&gt; does not depend on the target at all.</source>
        <translation>&lt;b&gt;auto&lt;/b&gt;（默认）：目标为所有检测或某一类别时用 Grad-CAM，目标为单个目标时用 HiResCAM。&lt;b&gt;Grad-CAM&lt;/b&gt; 是类别级的：它在整张图上平均每个通道的梯度，因此为一个目标生成的热力图会点亮所有相似目标。&lt;b&gt;HiResCAM&lt;/b&gt; 和 &lt;b&gt;LayerCAM&lt;/b&gt; 保留梯度的位置，指向目标本身：单击某个框时请使用它们。&lt;b&gt;EigenCAM&lt;/b&gt; 完全不依赖目标。</translation>
    </message>
    <message>
        <location filename="../help.py" line="134"/>
        <source>More, with a figure and measured numbers: the README&apos;s section &lt;a href=&quot;{0}&quot;&gt;How to read the panels&lt;/a&gt;.</source>
        <translation>更多内容（含插图和实测数据）：README 的 &lt;a href=&quot;{0}&quot;&gt;How to read the panels&lt;/a&gt; 一节。</translation>
    </message>
    <message>
        <location filename="../help.py" line="46"/>
        <source>Every heatmap has a colour bar below the picture (never over it): the colours from one end of the scale to the other with the end values under them, white ticks where this frame&apos;s smallest and largest values fall, and what is drawn, e.g. &lt;i&gt;spatial gate, mean over 64 ch: this frame 0.34 ... 0.6&lt;/i&gt;. The CAM is shown relative to its peak on the frame (1 = the strongest evidence); its raw peak is in the caption&apos;s tooltip. Hover a panel&apos;s caption for one line on what it shows.</source>
        <translation>每张热力图的下方（绝不覆盖图像）都有一条颜色条：从标尺一端到另一端的颜色，两端下方标出端点数值，白色刻度标出本帧最小值和最大值的位置，并说明所画的量，例如 &lt;i&gt;空间门控，64 个通道的均值：本帧 0.34 ... 0.6&lt;/i&gt;。CAM 以本帧峰值为基准显示（1 = 最强的证据）；其原始峰值在标题的提示中。将鼠标悬停在面板标题上可看到一行说明。</translation>
    </message>
    <message>
        <location filename="../help.py" line="108"/>
        <source>How to read it: the Detections panel shows the trained model&apos;s boxes matched with the ablated model&apos;s: &lt;b&gt;kept&lt;/b&gt; boxes with their score change (trained -&amp;gt; ablated), &lt;b&gt;lost&lt;/b&gt; boxes dashed red, &lt;b&gt;new&lt;/b&gt; boxes green; the status bar sums it up. &lt;i&gt;Maps of&lt;/i&gt; chooses whether the CAM and GAM panels show the trained or the ablated model; each panel&apos;s title says which. When the CAM&apos;s target has no box under the ablation, the window says the target is lost instead of explaining a box that is gone.</source>
        <translation>如何阅读：检测面板把训练后模型的框与消融后模型的框配对：&lt;b&gt;保留&lt;/b&gt;的框标出得分变化（训练后 -&amp;gt; 消融后），&lt;b&gt;丢失&lt;/b&gt;的框为红色虚线，&lt;b&gt;新增&lt;/b&gt;的框为绿色；状态栏给出汇总。&lt;i&gt;热力图来自&lt;/i&gt; 选择 CAM 和 GAM 面板显示训练后还是消融后的模型；每个面板的标题会注明。若 CAM 的目标在消融后没有对应的框，窗口会说明目标已丢失，而不是去解释一个已经消失的框。</translation>
    </message>
    <message>
        <location filename="../help.py" line="115"/>
        <source>Compare two models</source>
        <translation>对比两个模型</translation>
    </message>
    <message>
        <location filename="../help.py" line="116"/>
        <source>&lt;b&gt;View &amp;gt; Compare with...&lt;/b&gt; (Ctrl+Shift+B) runs a second checkpoint (B) on the same frames; it opens at the shipped model without GAM. Six panels: the detections of A and of B, the boxes matched (kept: B&apos;s box with A -&amp;gt; B score; red dashed: A only; green: B only), then CAM A, CAM B and CAM A - CAM B (red: A&apos;s map stronger, blue: B&apos;s, white: equal). The status bar sums the match table up. &lt;b&gt;View &amp;gt; Stop comparing&lt;/b&gt; goes back; the ablation view is off meanwhile.</source>
        <translation>&lt;b&gt;视图 &amp;gt; 与其他模型对比…&lt;/b&gt;（Ctrl+Shift+B）在相同的帧上运行第二个权重文件（B）；对话框默认打开随附的不含 GAM 的模型。共六个面板：A 和 B 的检测结果、配对后的框（保留：B 的框并标出 A -&amp;gt; B 得分；红色虚线：只有 A；绿色：只有 B），然后是 CAM A、CAM B 和 CAM A - CAM B（红：A 的热力图更强，蓝：B 的更强，白：相同）。状态栏汇总配对结果。&lt;b&gt;视图 &amp;gt; 停止对比&lt;/b&gt; 返回；对比期间不显示消融视图。</translation>
    </message>
    <message>
        <location filename="../help.py" line="123"/>
        <source>Faithfulness: can this map be trusted?</source>
        <translation>忠实度：这张热力图可信吗？</translation>
    </message>
    <message>
        <location filename="../help.py" line="124"/>
        <source>&lt;b&gt;View &amp;gt; Faithfulness&lt;/b&gt; opens a dock. Click a box (or leave the target on all detections: the strongest one is used), then &lt;b&gt;Measure&lt;/b&gt;. The frame&apos;s pixels are removed (deletion) or revealed (insertion) in the order of the map, and the detection&apos;s score is plotted against the fraction of pixels.</source>
        <translation>&lt;b&gt;视图 &amp;gt; 忠实度&lt;/b&gt; 打开一个停靠面板。单击一个框（或保持目标为全部检测框：此时使用得分最高的那个），然后单击 &lt;b&gt;测量&lt;/b&gt;。按热力图的顺序移除（删除）或显示（插入）帧中的像素，并画出检测得分随像素比例的变化。</translation>
    </message>
    <message>
        <location filename="../help.py" line="128"/>
        <source>How to read it: a faithful map has a LOW deletion AUC (the score falls as soon as the top pixels go) and a HIGH insertion AUC (it rises as soon as they come back), and beats the faint random-map and box-map curves; &lt;i&gt;energy in box&lt;/i&gt; is the share of the map inside the detection&apos;s box and &lt;i&gt;pointing&lt;/i&gt; says whether its peak is in the box. &lt;b&gt;Sanity check&lt;/b&gt; randomises the weights: a map that stays the same does not depend on what the model learnt.</source>
        <translation>如何阅读：忠实的热力图删除 AUC 低（最重要的像素一移除得分就下降）、插入 AUC 高（这些像素一恢复得分就上升），并且优于浅色的随机图和框图曲线；&lt;i&gt;框内能量&lt;/i&gt; 是热力图落在检测框内的比例，&lt;i&gt;指向&lt;/i&gt; 表示其峰值是否在框内。&lt;b&gt;合理性检查&lt;/b&gt; 会随机化权重：若热力图保持不变，说明它并不依赖模型学到的内容。</translation>
    </message>
    <message>
        <location filename="../help.py" line="72"/>
        <source>&lt;b&gt;Other attention blocks&lt;/b&gt; (CBAM, SE, ECA, CoordAtt, SimAM, EMA, TripletAttention, ...): choose one under &lt;i&gt;Attention block&lt;/i&gt;. The two attention panels then show its gates, titled with kind, gate and layer and with the gate&apos;s range in the caption; &lt;i&gt;Gate&lt;/i&gt; picks the first panel&apos;s gate, the second shows the next one (EMA and TripletAttention have three). A gate without positions (SE, ECA and CBAM&apos;s channel gates) is drawn as one bar per channel, not as a map; a block with one gate shows its gain beside it. A gate that barely varies on the frame is drawn on 1 % of its range, and its caption says so. The channel chart shows the block&apos;s channel gate, or says why it has none.</source>
        <translation>&lt;b&gt;其他注意力模块&lt;/b&gt;（CBAM、SE、ECA、CoordAtt、SimAM、EMA、TripletAttention 等）：在&lt;i&gt;注意力模块&lt;/i&gt;中选择一个。两个注意力面板随即显示它的门，标题注明模块类型、门和层，说明中给出门的取值范围；&lt;i&gt;门&lt;/i&gt;选择第一个面板显示的门，第二个面板显示下一个门（EMA 和 TripletAttention 有三个门）。没有位置的门（SE、ECA 以及 CBAM 的通道门）画成每个通道一根柱，而不是热力图；只有一个门的模块在旁边显示模块增益。在本帧上几乎不变的门只用其取值范围的 1 % 上色，说明中会注明。通道图显示该模块的通道门，没有时说明原因。</translation>
    </message>
    <message>
        <location filename="../help.py" line="101"/>
        <source>Ablation: what does an attention block change?</source>
        <translation>消融：注意力模块改变了什么？</translation>
    </message>
    <message>
        <location filename="../help.py" line="102"/>
        <source>In the &lt;b&gt;Ablation&lt;/b&gt; group at the bottom of the Controls dock, choose a mode for an attention block (&lt;i&gt;off&lt;/i&gt;: the block returns its input; &lt;i&gt;channel only&lt;/i&gt;, &lt;i&gt;spatial only&lt;/i&gt;: one gate skipped; &lt;i&gt;drop top channels&lt;/i&gt;; &lt;i&gt;mean gate&lt;/i&gt;). Each kind offers its own modes: CoordAtt &lt;i&gt;height only&lt;/i&gt; and &lt;i&gt;width only&lt;/i&gt;, SE &lt;i&gt;off&lt;/i&gt; and &lt;i&gt;drop top channels&lt;/i&gt;. &lt;i&gt;Compare with ablation&lt;/i&gt; turns on by itself; &lt;i&gt;All blocks on&lt;/i&gt; goes back.</source>
        <translation>在控制面板底部的&lt;b&gt;消融&lt;/b&gt;组中，为一个注意力模块选择模式（&lt;i&gt;关闭&lt;/i&gt;：模块直接返回输入；&lt;i&gt;仅通道门&lt;/i&gt;、&lt;i&gt;仅空间门&lt;/i&gt;：跳过一个门；&lt;i&gt;去掉前几个通道&lt;/i&gt;；&lt;i&gt;均值门&lt;/i&gt;）。每种模块提供自己的模式：CoordAtt 有&lt;i&gt;仅 height&lt;/i&gt; 和&lt;i&gt;仅 width&lt;/i&gt;，SE 有&lt;i&gt;关闭&lt;/i&gt;和&lt;i&gt;去掉前几个通道&lt;/i&gt;。&lt;i&gt;与消融结果对比&lt;/i&gt;会自动开启；&lt;i&gt;全部模块开启&lt;/i&gt;恢复原状。</translation>
    </message>
</context>
<context>
    <name>ImagePanel</name>
    <message>
        <location filename="../panels.py" line="495"/>
        <source>#{0} {1} (class {2})  score {3:.3f}
click: explain this object</source>
        <translation>#{0} {1}（类别 {2}）  分数 {3:.3f}
点击：解释这个目标</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../window_part.py" line="27"/>
        <source>Open an image, folder or video (Ctrl+O), a camera, or drop a file here</source>
        <translation>打开图片、文件夹或视频（Ctrl+O）、摄像头，或把文件拖放到这里</translation>
    </message>
    <message>
        <location filename="../window_part.py" line="28"/>
        <source>No model loaded: File &gt; Open weights... (or drop a .pt file here)</source>
        <translation>未加载模型：文件 &gt; 打开权重…（或把 .pt 文件拖放到这里）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="182"/>
        <source>gam-gui: GAM attention in YOLO</source>
        <translation>gam-gui：YOLO 中的 GAM 注意力</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="314"/>
        <source>Controls</source>
        <translation>控制面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="337"/>
        <source>device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="338"/>
        <source>model: {0}</source>
        <translation>模型：{0}</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="355"/>
        <source>&amp;Open image or video...</source>
        <translation>打开图片或视频(&amp;O)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="355"/>
        <source>Open an image or video</source>
        <translation>打开图片或视频</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="357"/>
        <source>Open &amp;folder...</source>
        <translation>打开文件夹(&amp;F)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="357"/>
        <source>Open a folder of images</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="359"/>
        <source>Open &amp;camera...</source>
        <translation>打开摄像头(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="359"/>
        <source>Open a webcam</source>
        <translation>打开网络摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="361"/>
        <source>Open &amp;stream URL...</source>
        <translation>打开视频流地址(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="361"/>
        <source>Open an rtsp/http stream</source>
        <translation>打开 rtsp/http 视频流</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="363"/>
        <source>Open &amp;weights...</source>
        <translation>打开权重(&amp;W)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="363"/>
        <source>Load a detector checkpoint (.pt)</source>
        <translation>加载检测器权重文件（.pt）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="365"/>
        <source>&amp;Save panels as PNG...</source>
        <translation>将面板保存为 PNG(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="365"/>
        <source>Save the side-by-side panels as one PNG</source>
        <translation>把并排的面板保存为一张 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="367"/>
        <source>Save individual &amp;panels...</source>
        <translation>分别保存各面板(&amp;P)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="367"/>
        <source>Save each visible panel as its own PNG</source>
        <translation>把每个可见面板各自保存为 PNG</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="369"/>
        <source>Save &amp;detections (JSON)...</source>
        <translation>保存检测结果（JSON）(&amp;D)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="369"/>
        <source>Save the current detections as JSON</source>
        <translation>把当前检测结果保存为 JSON</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="371"/>
        <source>&amp;Record panels to MP4</source>
        <translation>将面板录制为 MP4(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="371"/>
        <source>Record the panels of the playing source to an MP4</source>
        <translation>把正在播放的来源的面板录制为 MP4</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="373"/>
        <source>&amp;Export whole source...</source>
        <translation>导出整个来源(&amp;E)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="373"/>
        <source>Export the panels of every frame of the current file or folder</source>
        <translation>导出当前文件或文件夹每一帧的面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="377"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="377"/>
        <source>Quit gam-gui</source>
        <translation>退出 gam-gui</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="380"/>
        <source>&amp;Play / Pause</source>
        <translation>播放 / 暂停(&amp;P)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="380"/>
        <source>Play or pause</source>
        <translation>播放或暂停</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="381"/>
        <source>&amp;Step forward</source>
        <translation>下一帧(&amp;S)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="381"/>
        <source>Next frame or image</source>
        <translation>下一帧或下一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="383"/>
        <source>Step &amp;back</source>
        <translation>上一帧(&amp;B)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="383"/>
        <source>Previous frame or image</source>
        <translation>上一帧或上一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="385"/>
        <source>&amp;Next image</source>
        <translation>下一张图片(&amp;N)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="385"/>
        <source>Next image of the folder</source>
        <translation>文件夹中的下一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="387"/>
        <source>P&amp;revious image</source>
        <translation>上一张图片(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="387"/>
        <source>Previous image of the folder</source>
        <translation>文件夹中的上一张图片</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="389"/>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="389"/>
        <source>Stop: back to the first frame; release a camera</source>
        <translation>停止：回到第一帧；释放摄像头</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="391"/>
        <source>&amp;Loop video</source>
        <translation>循环播放视频(&amp;L)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="391"/>
        <source>Start a video again at its end</source>
        <translation>视频结束后从头播放</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="394"/>
        <source>Re-&amp;analyse</source>
        <translation>重新分析(&amp;A)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="394"/>
        <source>Analyse the current frame again</source>
        <translation>重新分析当前帧</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="399"/>
        <source>{0} panel</source>
        <translation>{0}面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="399"/>
        <source>Show or hide the {0} panel</source>
        <translation>显示或隐藏{0}面板</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="405"/>
        <source>Channel &amp;chart</source>
        <translation>通道图(&amp;C)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="405"/>
        <source>Show or hide the bar chart</source>
        <translation>显示或隐藏柱状图</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="417"/>
        <source>&amp;About gam-gui</source>
        <translation>关于 gam-gui(&amp;A)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="603"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="438"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="439"/>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="445"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="448"/>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="457"/>
        <source>&amp;Playback</source>
        <translation>播放(&amp;P)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="463"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="472"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="475"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="510"/>
        <source>end of source</source>
        <translation>来源已结束</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="532"/>
        <source>opening {0} ...</source>
        <translation>正在打开 {0} …</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="603"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="670"/>
        <source>Checkpoints (*.pt *.pth);;All files (*)</source>
        <translation>权重文件 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="776"/>
        <source>no sample found: {0}</source>
        <translation>未找到示例：{0}</translation>
    </message>
    <message>
        <location filename="../window_part.py" line="53"/>
        <source>{0} both (mean {1}), {2} A only, {3} B only</source>
        <translation>{0} 个共有（平均 {1}），{2} 个仅 A，{3} 个仅 B</translation>
    </message>
    <message>
        <location filename="../window_part.py" line="55"/>
        <source>{0} both, {1} A only, {2} B only</source>
        <translation>{0} 个共有，{1} 个仅 A，{2} 个仅 B</translation>
    </message>
    <message>
        <location filename="../window_part.py" line="57"/>
        <source>{0} kept (mean {1}), {2} lost, {3} new</source>
        <translation>{0} 个保留（平均 {1}），{2} 个丢失，{3} 个新增</translation>
    </message>
    <message>
        <location filename="../window_part.py" line="59"/>
        <source>{0} kept, {1} lost, {2} new</source>
        <translation>{0} 个保留，{1} 个丢失，{2} 个新增</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="411"/>
        <source>&amp;Compare with...</source>
        <translation>与其他模型对比(&amp;C)…</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="411"/>
        <source>Run a second model on the same frames and show both side by side (the ablation view is off meanwhile)</source>
        <translation>在相同的帧上运行第二个模型并并排显示两者（期间消融视图关闭）</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="414"/>
        <source>Stop c&amp;omparing</source>
        <translation>停止对比(&amp;O)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="414"/>
        <source>Back to the normal view of one model</source>
        <translation>回到单个模型的普通视图</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="670"/>
        <source>Compare with model</source>
        <translation>与模型对比</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="418"/>
        <source>How to &amp;read the panels</source>
        <translation>如何解读各面板(&amp;R)</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="418"/>
        <source>What each panel and colour means, the GAM variants, which CAM method to use</source>
        <translation>各面板和颜色的含义、GAM 变体、应使用哪种 CAM 方法</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="237"/>
        <source>The analysis thread could not start (the system refused a new thread: too many threads or a memory limit). Start gam-gui again with fewer --threads.</source>
        <translation>分析线程无法启动（系统拒绝创建新线程：线程过多或受内存限制）。请用更少的 --threads 重新启动 gam-gui。</translation>
    </message>
    <message>
        <location filename="../main_window.py" line="328"/>
        <source>The CAM&apos;s target on the frame shown (the caption of the CAM panel says the same)</source>
        <translation>当前显示帧上 CAM 的目标（与 CAM 面板标题一致）</translation>
    </message>
</context>
<context>
    <name>MeasureDock</name>
    <message>
        <location filename="../measure.py" line="173"/>
        <source>Faithfulness</source>
        <translation>忠实度</translation>
    </message>
    <message>
        <location filename="../measure.py" line="182"/>
        <source>Points per curve; the model runs once on 2 x steps perturbed frames</source>
        <translation>每条曲线的点数；模型在 2 x 步数张扰动帧上运行一次</translation>
    </message>
    <message>
        <location filename="../measure.py" line="183"/>
        <source>Steps:</source>
        <translation>步数：</translation>
    </message>
    <message>
        <location filename="../measure.py" line="185"/>
        <source>blurred frame</source>
        <translation>模糊帧</translation>
    </message>
    <message>
        <location filename="../measure.py" line="185"/>
        <source>mean colour</source>
        <translation>平均颜色</translation>
    </message>
    <message>
        <location filename="../measure.py" line="191"/>
        <source>Baseline:</source>
        <translation>基线：</translation>
    </message>
    <message>
        <location filename="../measure.py" line="202"/>
        <source>Measure</source>
        <translation>测量</translation>
    </message>
    <message>
        <location filename="../measure.py" line="203"/>
        <source>Measure the current CAM for its target: the clicked object, else the strongest detection</source>
        <translation>为当前 CAM 的目标测量：单击的目标，否则为最强的检测</translation>
    </message>
    <message>
        <location filename="../measure.py" line="233"/>
        <source>Click Measure to score the current map.</source>
        <translation>单击“测量”为当前热力图打分。</translation>
    </message>
    <message>
        <location filename="../measure.py" line="240"/>
        <source>Faithful maps: low deletion AUC (the score falls when the top pixels go), high insertion AUC (it comes back when they alone are shown).</source>
        <translation>忠实的热力图：删除 AUC 低（移除最重要的像素后得分下降），插入 AUC 高（只显示这些像素时得分恢复）。</translation>
    </message>
    <message>
        <location filename="../measure.py" line="249"/>
        <source>measuring ...</source>
        <translation>正在测量 ...</translation>
    </message>
    <message>
        <location filename="../measure.py" line="286"/>
        <source>{0}, detection #{1} ({2}, {3:.2f}) on frame {4}
deletion AUC {5:.3f}   insertion AUC {6:.3f}
energy in box {7:.1%}   pointing: {8}
{9} steps, {10} baseline, {11:.0f} ms</source>
        <translation>{0}，第 {4} 帧上的检测 #{1}（{2}，{3:.2f}）
删除 AUC {5:.3f}   插入 AUC {6:.3f}
框内能量 {7:.1%}   指向：{8}
{9} 步，{10} 基线，{11:.0f} 毫秒</translation>
    </message>
    <message>
        <location filename="../measure.py" line="290"/>
        <source>hit</source>
        <translation>命中</translation>
    </message>
    <message>
        <location filename="../measure.py" line="290"/>
        <source>miss</source>
        <translation>未命中</translation>
    </message>
    <message>
        <location filename="../measure.py" line="352"/>
        <source>&amp;Faithfulness</source>
        <translation>忠实度(&amp;F)</translation>
    </message>
    <message>
        <location filename="../measure.py" line="353"/>
        <source>Measure how faithful the current CAM is to its target</source>
        <translation>测量当前 CAM 对其目标的忠实程度</translation>
    </message>
    <message>
        <location filename="../measure.py" line="396"/>
        <source>the followed object has been out of view for {0:.1f} s: the CAM explains all detections again</source>
        <translation>跟踪的目标已离开视野 {0:.1f} 秒：CAM 重新解释所有检测</translation>
    </message>
    <message>
        <location filename="../measure.py" line="79"/>
        <source>sanity check failed: {0}</source>
        <translation>合理性检查失败：{0}</translation>
    </message>
    <message>
        <location filename="../measure.py" line="186"/>
        <source>kept neighbours (ROAD)</source>
        <translation>保留的邻域像素（ROAD）</translation>
    </message>
    <message>
        <location filename="../measure.py" line="189"/>
        <source>What removed pixels are replaced with; ROAD fills them from the kept pixels around them, so the hole does not keep the object&apos;s shape</source>
        <translation>被移除的像素用什么替换；ROAD 用周围保留的像素填充，因此空洞不会保留物体的形状</translation>
    </message>
    <message>
        <location filename="../measure.py" line="221"/>
        <source>Sanity check</source>
        <translation>合理性检查</translation>
    </message>
    <message>
        <location filename="../measure.py" line="222"/>
        <source>Re-initialise the model&apos;s weights from the head down to the attention blocks (on a copy) and compare each detection&apos;s map before and after: a map that barely changes does not depend on the model</source>
        <translation>（在副本上）从检测头向下到注意力模块重新初始化模型权重，并比较每个检测框前后的热力图：几乎不变的热力图并不依赖于模型</translation>
    </message>
    <message>
        <location filename="../measure.py" line="293"/>
        <source>tied pixels {0:.0%} (curves: mean of {1} random orders)</source>
        <translation>并列像素 {0:.0%}（曲线：{1} 种随机顺序的平均）</translation>
    </message>
    <message>
        <location filename="../measure.py" line="295"/>
        <source>random map</source>
        <translation>随机图</translation>
    </message>
    <message>
        <location filename="../measure.py" line="295"/>
        <source>box map</source>
        <translation>框图</translation>
    </message>
    <message>
        <location filename="../measure.py" line="299"/>
        <source>{0}: deletion AUC {1:.3f}   insertion AUC {2:.3f}</source>
        <translation>{0}：删除 AUC {1:.3f}   插入 AUC {2:.3f}</translation>
    </message>
    <message>
        <location filename="../measure.py" line="301"/>
        <source>no better than a random map</source>
        <translation>不比随机图好</translation>
    </message>
    <message>
        <location filename="../measure.py" line="302"/>
        <source>no more than the box</source>
        <translation>不比框本身更多</translation>
    </message>
    <message>
        <location filename="../measure.py" line="309"/>
        <source>nothing to check</source>
        <translation>没有可检查的内容</translation>
    </message>
    <message>
        <location filename="../measure.py" line="314"/>
        <source>sanity check: randomising the weights ...</source>
        <translation>合理性检查：正在随机化权重……</translation>
    </message>
    <message>
        <location filename="../measure.py" line="324"/>
        <source>{0}: no detection to check</source>
        <translation>{0}：没有可检查的检测框</translation>
    </message>
    <message>
        <location filename="../measure.py" line="327"/>
        <source>{0}: rank correlation trained vs randomised {1:.2f} [{2:.2f}, {3:.2f}] over {4} detection(s)</source>
        <translation>{0}：训练后与随机化后的秩相关 {1:.2f} [{2:.2f}, {3:.2f}]，共 {4} 个检测框</translation>
    </message>
    <message>
        <location filename="../measure.py" line="332"/>
        <source>insensitive to the model (above 0.5: the map barely changes when the weights are destroyed)</source>
        <translation>对模型不敏感（高于 0.5：破坏权重后热力图几乎不变）</translation>
    </message>
    <message>
        <location filename="../measure.py" line="371"/>
        <source>nothing to check: open a source and a model first</source>
        <translation>没有可检查的内容：请先打开来源和模型</translation>
    </message>
    <message>
        <location filename="../measure.py" line="373"/>
        <source>choose a CAM method to check</source>
        <translation>请选择要检查的 CAM 方法</translation>
    </message>
    <message>
        <location filename="../measure.py" line="375"/>
        <source>no detection to check on this frame</source>
        <translation>本帧没有可检查的检测框</translation>
    </message>
    <message>
        <location filename="../measure.py" line="195"/>
        <source>Pixels with equal map values (the zeros of HiResCAM, the inside of the box map) are taken in a random order; each curve is the mean over this many orders. Each order costs about one more measurement; eval --faithfulness uses 4</source>
        <translation>热力图取值相同的像素（HiResCAM 的零值、框图内部）按随机顺序处理；每条曲线是这么多种顺序的平均。每多一种顺序约多一次测量的耗时；eval --faithfulness 使用 4</translation>
    </message>
    <message>
        <location filename="../measure.py" line="199"/>
        <source>Tie orders:</source>
        <translation>并列顺序数：</translation>
    </message>
    <message>
        <location filename="../measure.py" line="207"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../measure.py" line="208"/>
        <source>Stop the measurement after the batch that is running</source>
        <translation>在当前批次完成后停止测量</translation>
    </message>
    <message>
        <location filename="../measure.py" line="215"/>
        <source>Perturbed frames scored so far, out of those the measurement needs, and the time left at the rate so far</source>
        <translation>已评分的扰动帧数、测量所需的总帧数，以及按目前速度估计的剩余时间</translation>
    </message>
    <message>
        <location filename="../measure.py" line="252"/>
        <source>preparing ...</source>
        <translation>准备中 ...</translation>
    </message>
    <message>
        <location filename="../measure.py" line="260"/>
        <source>cancelling ...</source>
        <translation>正在取消 ...</translation>
    </message>
    <message>
        <location filename="../measure.py" line="273"/>
        <source>{0:.0f} s left</source>
        <translation>剩余 {0:.0f} 秒</translation>
    </message>
    <message>
        <location filename="../measure.py" line="273"/>
        <source>estimating</source>
        <translation>估算中</translation>
    </message>
    <message>
        <location filename="../measure.py" line="274"/>
        <source>{0}/{1} frames, {2}</source>
        <translation>{0}/{1} 帧，{2}</translation>
    </message>
</context>
<context>
    <name>ModelController</name>
    <message>
        <location filename="../model_controller.py" line="29"/>
        <source>CUDA is not available; using the CPU instead of {0}</source>
        <translation>CUDA 不可用；使用 CPU 代替 {0}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="40"/>
        <source>loading model {0} ...</source>
        <translation>正在加载模型 {0} …</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="65"/>
        <source>device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="66"/>
        <source>model: {0}</source>
        <translation>模型：{0}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="68"/>
        <source>{0} GAM blocks</source>
        <translation>{0} 个 GAM 模块</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="68"/>
        <source>no GAM blocks</source>
        <translation>没有 GAM 模块</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="72"/>
        <source>loaded {0}: {1} classes, {2}</source>
        <translation>已加载 {0}：{1} 个类别，{2}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="90"/>
        <source>no model: {0}</source>
        <translation>没有模型：{0}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="94"/>
        <source>Cannot load the weights</source>
        <translation>无法加载权重</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="107"/>
        <source>A vs B: {0}</source>
        <translation>A 对比 B：{0}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="109"/>
        <source>ablation {0}: {1}</source>
        <translation>消融 {0}：{1}</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="117"/>
        <source>target: detection #{0} ({1})</source>
        <translation>目标：检测框 #{0}（{1}）</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="126"/>
        <source>A {0:.0f} ms | B {1:.0f} ms | total {2:.0f} ms</source>
        <translation>A {0:.0f} ms | B {1:.0f} ms | 总计 {2:.0f} ms</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="131"/>
        <source>inference {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | total {3:.0f} ms</source>
        <translation>推理 {0:.0f} ms | CAM {1:.0f} ms | GAM {2:.0f} ms | 总计 {3:.0f} ms</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="134"/>
        <source> | ablation {0:.0f} ms</source>
        <translation> | 消融 {0:.0f} ms</translation>
    </message>
    <message>
        <location filename="../model_controller.py" line="71"/>
        <source>, {0} other attention blocks</source>
        <translation>，{0} 个其他注意力模块</translation>
    </message>
</context>
<context>
    <name>OutputController</name>
    <message>
        <location filename="../output_controller.py" line="104"/>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="243"/>
        <source>saved {0}</source>
        <translation>已保存 {0}</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="49"/>
        <source>Save panels as PNG</source>
        <translation>将面板保存为 PNG</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="49"/>
        <source>PNG images (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="71"/>
        <source>saved {0} panel(s) to {1}</source>
        <translation>已将 {0} 个面板保存到 {1}</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="78"/>
        <source>Save panels into folder</source>
        <translation>把面板保存到文件夹</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="112"/>
        <source>Save detections</source>
        <translation>保存检测结果</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="112"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="134"/>
        <source>open a video or camera first</source>
        <translation>请先打开视频或摄像头</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="137"/>
        <source>Record panels to MP4</source>
        <translation>将面板录制为 MP4</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="137"/>
        <source>MP4 video (*.mp4)</source>
        <translation>MP4 视频 (*.mp4)</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="147"/>
        <source>open a file or folder and a model first</source>
        <translation>请先打开文件或文件夹以及模型</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="149"/>
        <source>Export panels into folder</source>
        <translation>把面板导出到文件夹</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="157"/>
        <source>Export video</source>
        <translation>导出视频</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="157"/>
        <source>Write one MP4 of the panels (Yes) or a PNG per frame (No)?</source>
        <translation>把面板写成一个 MP4（是），还是每帧一张 PNG（否）？</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="170"/>
        <source>an export is running already</source>
        <translation>已有导出正在进行</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="172"/>
        <source>Exporting...</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="172"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="191"/>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="215"/>
        <source>Replace files?</source>
        <translation>替换文件？</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="215"/>
        <source>These files exist already:
{0}

Replace them?</source>
        <translation>这些文件已经存在：
{0}

要替换它们吗？</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="233"/>
        <source>nothing analysed to save yet</source>
        <translation>还没有可保存的分析结果</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="243"/>
        <source>recording to {0}</source>
        <translation>正在录制到 {0}</translation>
    </message>
    <message>
        <location filename="../output_controller.py" line="243"/>
        <source>recording stopped</source>
        <translation>录制已停止</translation>
    </message>
</context>
<context>
    <name>SourcesController</name>
    <message>
        <location filename="../sources_controller.py" line="24"/>
        <source>Open image or video</source>
        <translation>打开图片或视频</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="24"/>
        <source>Images and videos ({0});;All files (*)</source>
        <translation>图片和视频 ({0});;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="31"/>
        <source>Open a folder of images</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="39"/>
        <source>No camera</source>
        <translation>没有摄像头</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="39"/>
        <source>No camera was found (no /dev/video* device).</source>
        <translation>未找到摄像头（没有 /dev/video* 设备）。</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="42"/>
        <source>Open camera</source>
        <translation>打开摄像头</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="42"/>
        <source>Camera:</source>
        <translation>摄像头：</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="49"/>
        <source>Open stream</source>
        <translation>打开视频流</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="49"/>
        <source>Stream URL (rtsp://, http://, ...):</source>
        <translation>视频流地址（rtsp://、http://、…）：</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="58"/>
        <source>Open weights</source>
        <translation>打开权重</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="58"/>
        <source>Checkpoints (*.pt *.pth);;All files (*)</source>
        <translation>权重文件 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="91"/>
        <source>removed {0} recent entries that no longer exist: {1}</source>
        <translation>已移除 {0} 个不再存在的最近文件：{1}</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="103"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="106"/>
        <source>Clear list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="144"/>
        <source>live frame {0}  (dropped {1})</source>
        <translation>实时帧 {0}  （丢弃 {1}）</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="146"/>
        <source>image {0} / {1}: {2}</source>
        <translation>图片 {0} / {1}：{2}</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="151"/>
        <source>frame {0} / {1}</source>
        <translation>帧 {0} / {1}</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="153"/>
        <source>  (dropped {0})</source>
        <translation>  （丢弃 {0}）</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="164"/>
        <source>opened {0} ({1})</source>
        <translation>已打开 {0}（{1}）</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="170"/>
        <source>Cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <location filename="../sources_controller.py" line="175"/>
        <source>source closed</source>
        <translation>来源已关闭</translation>
    </message>
</context>
<context>
    <name>StateController</name>
    <message>
        <location filename="../state_controller.py" line="48"/>
        <source>{0} settings were ignored (see the log); the first: {1}</source>
        <translation>忽略了 {0} 项设置（见日志）；第一项：{1}</translation>
    </message>
</context>
<context>
    <name>ViewController</name>
    <message>
        <location filename="../view_controller.py" line="59"/>
        <source>{0} panel</source>
        <translation>{0}面板</translation>
    </message>
    <message>
        <location filename="../view_controller.py" line="100"/>
        <source>GAM channel panel: channel {0} of layer {1} (weight {2:+.3f}); click the bar again to go back</source>
        <translation>GAM 通道面板：第 {1} 层的通道 {0}（权重 {2:+.3f}）；再次单击柱条返回</translation>
    </message>
    <message>
        <location filename="../view_controller.py" line="164"/>
        <source>CAM target: the {0} you clicked (score {1:.3f}); followed on a video</source>
        <translation>CAM 目标：你单击的 {0}（得分 {1:.3f}）；视频中会持续跟随</translation>
    </message>
    <message>
        <location filename="../view_controller.py" line="97"/>
        <source>The channel drill-down needs a GAM block (its recorder keeps the block&apos;s input and output); the attention panels show this block&apos;s gates</source>
        <translation>通道下钻需要 GAM 模块（其记录器保存了模块的输入和输出）；注意力面板显示的是该模块的门</translation>
    </message>
</context>
<context>
    <name>panels</name>
    <message>
        <location filename="../panels.py" line="176"/>
        <source>Ablation {0}</source>
        <translation>消融 {0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="180"/>
        <source>trained model</source>
        <translation>训练后的模型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="180"/>
        <source>ablated model</source>
        <translation>消融后的模型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="182"/>
        <source>{0} - {1}</source>
        <translation>{0} - {1}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="184"/>
        <source>target lost under the ablation: no box to explain</source>
        <translation>消融后目标丢失：没有可解释的框</translation>
    </message>
    <message>
        <location filename="../panels.py" line="204"/>
        <source>maps: trained model</source>
        <translation>热力图：训练后的模型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="205"/>
        <source>maps: ablated model</source>
        <translation>热力图：消融后的模型</translation>
    </message>
    <message>
        <location filename="../panels.py" line="207"/>
        <source>the CAM&apos;s target is lost under the ablation</source>
        <translation>CAM 的目标在消融后丢失</translation>
    </message>
</context>
<context>
    <name>render</name>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>Detections</source>
        <translation>检测结果</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>CAM</source>
        <translation>CAM</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>GAM channel</source>
        <translation>GAM 通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>GAM spatial</source>
        <translation>GAM 空间</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>Frame</source>
        <translation>帧</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>{n} object  conf {conf}  iou {iou}</source>
        <translation>{n} 个目标  置信度 {conf}  IoU {iou}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>{n} objects  conf {conf}  iou {iou}</source>
        <translation>{n} 个目标  置信度 {conf}  IoU {iou}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>L{layers}  target: {target}</source>
        <translation>L{layers}  目标：{target}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>L{layers}  target: {target}  ({note})</source>
        <translation>L{layers}  目标：{target}  （{note}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>layer {layer}  {reduction} over {channels} ch  ({variant})</source>
        <translation>第 {layer} 层  {channels} 个通道的{reduction}  （{variant}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>layer {layer}  {reduction}</source>
        <translation>第 {layer} 层  {reduction}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>this model has no GAM layers</source>
        <translation>该模型没有 GAM 层</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>no model loaded: File &gt; Open weights</source>
        <translation>未加载模型：文件 &gt; 打开权重</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>all detections</source>
        <translation>全部检测框</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>class scores</source>
        <translation>类别分数</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>box outputs</source>
        <translation>边框输出</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>detection #{0}</source>
        <translation>检测框 #{0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>class {0}</source>
        <translation>类别 {0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>A vs B: boxes</source>
        <translation>A 对比 B：检测框</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>CAM A - CAM B</source>
        <translation>CAM A - CAM B</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>GAM block gain</source>
        <translation>GAM 模块增益</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>GAM channel-branch gain</source>
        <translation>GAM 通道分支增益</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>GAM spatial-branch gain</source>
        <translation>GAM 空间分支增益</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>GAM channel drill-down</source>
        <translation>GAM 单通道查看</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>layer {layer}  log2 {formula}</source>
        <translation>第 {layer} 层  log2 {formula}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>layer {layer}  channel {channel}: before | after the block, weight {weight}</source>
        <translation>第 {layer} 层  通道 {channel}：模块前 | 模块后，权重 {weight}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>no block input/output recorded for this frame</source>
        <translation>此帧未记录模块的输入/输出</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>The model&apos;s detections: class, score; click a box to explain that object.</source>
        <translation>模型的检测：类别、得分；单击一个框即可解释该目标。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>Where the CAM method finds evidence for the target: the colour map&apos;s top colour is the most on this frame.</source>
        <translation>CAM 方法为目标找到证据的位置：色图最高端的颜色表示本帧中最多之处。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>Channel gate c(x) of the GAM block, reduced over channels per pixel. Seed variant: no sigmoid, so signed: red &gt; 0 (amplifies), blue &lt; 0 (flips the sign), white 0.</source>
        <translation>GAM 模块的通道门控 c(x)，按像素在通道上归约。seed 变体：没有 sigmoid，因此有正负：红 &gt; 0（放大），蓝 &lt; 0（翻转符号），白 0。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>Channel gate sigmoid(c(x)) of the GAM block, reduced over channels per pixel, in [0, 1].</source>
        <translation>GAM 模块的通道门控 sigmoid(c(x))，按像素在通道上归约，取值 [0, 1]。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>Spatial gate s(x*c) of the GAM block, reduced over channels per pixel, in [0, 1]: how much of the channel-gated features each pixel passes on.</source>
        <translation>GAM 模块的空间门控 s(x*c)，按像素在通道上归约，取值 [0, 1]：每个像素把多少经通道门控的特征传递下去。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>What the whole block did: log2 ||out|| / ||in|| per pixel over channels; red: features made stronger, blue: weaker, white: unchanged (gain 1).</source>
        <translation>整个模块做了什么：每个像素在通道上的 log2 ||out|| / ||in||；红：特征增强，蓝：减弱，白：不变（增益 1）。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>What the channel branch did: log2 ||x*c|| / ||x|| per pixel; red: stronger, blue: weaker.</source>
        <translation>通道分支做了什么：每个像素的 log2 ||x*c|| / ||x||；红：增强，蓝：减弱。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>What the spatial branch did: log2 ||out|| / ||x*c|| per pixel; red: stronger, blue: weaker.</source>
        <translation>空间分支做了什么：每个像素的 log2 ||out|| / ||x*c||；红：增强，蓝：减弱。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>One channel&apos;s feature map before (left) and after (right) the GAM block, on one blue-white-red scale (0 white); click the bar again to go back.</source>
        <translation>一个通道在 GAM 模块之前（左）和之后（右）的特征图，使用同一蓝-白-红标尺（0 为白）；再次单击柱条返回。</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>seed</source>
        <translation>seed 变体</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>paper</source>
        <translation>paper 变体</translation>
    </message>
    <message>
        <location filename="../panels.py" line="33"/>
        <source>paper-shuffle</source>
        <translation>paper-shuffle 变体</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>{0} gate, {1} over {2} ch</source>
        <translation>{0}门控，{2} 个通道的{1}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>{0}, 1 = this frame&apos;s peak</source>
        <translation>{0}，1 = 本帧峰值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>{0}, 1 = each box&apos;s peak</source>
        <translation>{0}，1 = 各框内峰值</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>{0}, raw units</source>
        <translation>{0}，原始单位</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>log2 {0}</source>
        <translation>log2 {0}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>channel {0}, before | after</source>
        <translation>通道 {0}，之前 | 之后</translation>
    </message>
    <message>
        <location filename="../panels.py" line="103"/>
        <source>channel</source>
        <translation>通道</translation>
    </message>
    <message>
        <location filename="../panels.py" line="103"/>
        <source>spatial</source>
        <translation>空间</translation>
    </message>
    <message>
        <location filename="../panels.py" line="105"/>
        <source>{0}: this frame {1} ... {2}</source>
        <translation>{0}：本帧 {1} ... {2}</translation>
    </message>
    <message>
        <location filename="../panels.py" line="106"/>
        <source> (held over the video: {0} ... {1})</source>
        <translation>（整个视频固定：{0} ... {1}）</translation>
    </message>
    <message>
        <location filename="../panels.py" line="107"/>
        <source>raw peak of the map on this frame: {0}</source>
        <translation>本帧热力图的原始峰值：{0}</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>{kind} {gate} gate (layer {layer})</source>
        <translation>{kind} {gate}门（第 {layer} 层）</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>{kind} block gain (layer {layer})</source>
        <translation>{kind} 模块增益（第 {layer} 层）</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>{reduction} over {channels} ch; gate range {range}</source>
        <translation>{channels} 个通道取{reduction}；门的取值范围 {range}</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>one value per pixel; gate range {range}</source>
        <translation>每个像素一个值；门的取值范围 {range}</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>{subtitle}; nearly constant here: the colours span 1 % of its range</source>
        <translation>{subtitle}；本帧上几乎不变：颜色只覆盖其取值范围的 1 %</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>one weight per channel ({channels} ch), no positions: one bar per channel; gate range {range}</source>
        <translation>每个通道一个权重（{channels} 个通道），没有位置：每个通道一根柱；门的取值范围 {range}</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>weight of each branch per channel ({channels} ch, {branches} branches), no positions</source>
        <translation>每个通道上各分支的权重（{channels} 个通道，{branches} 个分支），没有位置</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>log2 ||out|| / ||in|| per pixel</source>
        <translation>每个像素的 log2 ||out|| / ||in||</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>the block&apos;s output has another shape than its input: no gain</source>
        <translation>该模块输出与输入形状不同：没有增益</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>unbounded</source>
        <translation>无界</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>A gate of the shown attention block over the frame, reduced over channels per pixel (the colour bar: its values on this frame). What it means:</source>
        <translation>所显示注意力模块的一个门，铺在整帧上，每个像素在通道上合并（颜色条：它在本帧上的取值）。含义：</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>A gate without positions: one weight per channel, drawn as bars (x: channel, height and colour: the weight on the colour bar). It scales a whole channel everywhere, so it has no heatmap; the channel chart shows the same weights. What it means:</source>
        <translation>没有位置的门：每个通道一个权重，画成柱状（横轴：通道，高度和颜色：颜色条上的权重）。它在所有位置缩放整个通道，所以没有热力图；通道图显示同样的权重。含义：</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="9"/>
        <source>What the whole block did: log2 ||out|| / ||in|| per pixel, norms over channels; red: features made stronger, blue: weaker, white: unchanged (gain 1).</source>
        <translation>整个模块的作用：每个像素的 log2 ||out|| / ||in||，范数在通道上计算；红：特征增强，蓝：减弱，白：不变（增益 1）。</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="32"/>
        <source>height</source>
        <translation>高度</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="32"/>
        <source>width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <location filename="../attention_captions.py" line="32"/>
        <source>energy</source>
        <translation>能量</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>{0} gate, one weight per channel</source>
        <translation>{0}门，每个通道一个权重</translation>
    </message>
    <message>
        <location filename="../panels.py" line="91"/>
        <source>{0} gate</source>
        <translation>{0}门</translation>
    </message>
</context>
</TS>
